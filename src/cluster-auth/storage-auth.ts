/**
 * How the gateway authenticates to an Azure storage account (ADLS Gen2, through its Blob
 * endpoint): the `storage.auth` of a Synapse backend entry. An account key or a SAS token
 * comes from a file or an environment variable it names, never from the entry itself;
 * `default` is @azure/identity's DefaultAzureCredential (managed identity, a service
 * principal's AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, az login, …).
 */
import { readFileSync } from 'node:fs'
import { Type, type Static } from 'typebox'
import { checkReadableFile, CredentialError, Secret } from './credentials.js'

const File = (description: string) => Type.Optional(Type.String({ pattern: '^/', description }))
const Env = (description: string) =>
  Type.Optional(Type.String({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$', description }))

export const StorageAuthSchema = Type.Union(
  [
    Type.Object(
      {
        type: Type.Literal('key', { description: 'The storage account’s access key.' }),
        keyFile: File('A file holding the key (read at boot; a trailing newline is dropped).'),
        keyEnv: Env('The environment variable holding the key.'),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('sas', {
          description: 'A SAS token of the container (read, add, create, write, delete, list).',
        }),
        tokenFile: File('A file holding the SAS token (without or with its leading "?").'),
        tokenEnv: Env('The environment variable holding the SAS token.'),
      },
      { additionalProperties: false },
    ),
    Type.Object(
      {
        type: Type.Literal('default', {
          description:
            'DefaultAzureCredential: managed identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, az login, … (the identity needs Storage Blob Data Contributor on the container).',
        }),
      },
      { additionalProperties: false },
    ),
  ],
  {
    description:
      'How the gateway reaches the storage account: {type: key, keyFile|keyEnv} | {type: sas, tokenFile|tokenEnv} | {type: default}',
  },
)
export type StorageAuth = Static<typeof StorageAuthSchema>

export type ResolvedStorageAuth =
  { type: 'key'; key: Secret } | { type: 'sas'; token: Secret } | { type: 'default' }

/** A secret from the file or the environment variable a setting names (exactly one). */
export function secretFrom(
  file: string | undefined,
  envName: string | undefined,
  where: string,
  names: [string, string],
  env: NodeJS.ProcessEnv = process.env,
): Secret {
  const [fileField, envField] = names
  if ((file === undefined) === (envName === undefined))
    throw new CredentialError(`${where}: needs one of ${fileField} or ${envField}`)
  if (file !== undefined) {
    checkReadableFile(file, `${where}.${fileField}`)
    const value = readFileSync(file, 'utf8').replace(/\r?\n$/, '')
    if (!value) throw new CredentialError(`${where}.${fileField}: ${file} is empty`)
    return new Secret(value)
  }
  const value = env[envName!] ?? ''
  if (!value)
    throw new CredentialError(
      `${where}.${envField}: the environment variable ${envName} is not set`,
    )
  return new Secret(value)
}

/** Resolves a storage `auth` set at `where` (e.g. `SPARKGATE_BACKENDS[1].storage.auth`). */
export function resolveStorageAuth(
  auth: StorageAuth,
  where: string,
  env: NodeJS.ProcessEnv = process.env,
): ResolvedStorageAuth {
  if (auth.type === 'key')
    return {
      type: 'key',
      key: secretFrom(auth.keyFile, auth.keyEnv, where, ['keyFile', 'keyEnv'], env),
    }
  if (auth.type === 'sas') {
    const token = secretFrom(auth.tokenFile, auth.tokenEnv, where, ['tokenFile', 'tokenEnv'], env)
    return { type: 'sas', token: new Secret(token.reveal().replace(/^\?/, '')) }
  }
  return { type: 'default' }
}
