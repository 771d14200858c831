/**
 * The `synapse` kind: an Azure Synapse Spark pool through the real SDK
 * (`{name, kind: synapse, endpoint, pool, storage?, livyApiVersion?, caFile?, tokenFile?, maxLive?}`).
 *
 * `storage` names the workspace's ADLS Gen2 account, container and folder: Sparkgate stages
 * the pool's datasets, job files and runs there (abfss://…), so declarative training and
 * scoring run on the pool. Without it, only batches whose files the pool reads already.
 *
 * With nothing set, `auto` adds a `synapse` backend on the local stack's Synapse double and
 * its Azurite storage when the stack runs them (`<stack>/run/synapse.json`, written by
 * `npm run stack:up`; SPARKGATE_SYNAPSE_DOUBLE=none leaves it out).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Type, type Static } from 'typebox'
import { CredentialError } from '../../cluster-auth/credentials.js'
import {
  resolveStorageAuth,
  secretFrom,
  StorageAuthSchema,
} from '../../cluster-auth/storage-auth.js'
import { AdlsStore } from '../../storage/adls-store.js'
import { BackendConfigError, defineBackendKind, entryFields } from '../backend-kind.js'
import { staticTokenCredential, SynapseBackend } from './synapse-backend.js'

const REPO = fileURLToPath(new URL('../../../', import.meta.url))
const AbsolutePath = (description: string) => Type.String({ pattern: '^/', description })

const StorageSchema = Type.Object(
  {
    account: Type.String({
      pattern: '^[a-z0-9]{3,24}$',
      description: 'The storage account (ADLS Gen2: hierarchical namespace on).',
    }),
    container: Type.String({
      pattern: '^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$',
      description: 'The container (file system) the pool reads.',
    }),
    folder: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$',
        description: 'The folder of everything Sparkgate stages there (default sparkgate).',
      }),
    ),
    blobEndpoint: Type.Optional(
      Type.String({
        pattern: '^https://',
        description:
          'The Blob endpoint (default https://ACCOUNT.blob.core.windows.net; a private endpoint, or Azurite).',
      }),
    ),
    auth: StorageAuthSchema,
    caFile: Type.Optional(AbsolutePath('PEM of a private CA of the Blob endpoint.')),
  },
  {
    additionalProperties: false,
    description:
      'The workspace storage where Sparkgate stages the pool’s datasets, job files and runs.',
  },
)

const SynapseEntry = Type.Object(
  {
    ...entryFields('synapse'),
    endpoint: Type.String({ pattern: '^https://' }),
    pool: Type.String({ minLength: 1, maxLength: 64 }),
    livyApiVersion: Type.Optional(Type.String({ minLength: 1 })),
    caFile: Type.Optional(Type.String({ pattern: '^/' })),
    tokenFile: Type.Optional(
      AbsolutePath(
        'A file holding a bearer token for the workspace (else SPARKGATE_SYNAPSE_TOKEN).',
      ),
    ),
    storage: Type.Optional(StorageSchema),
  },
  { additionalProperties: false },
)
type Entry = Static<typeof SynapseEntry>

/** The local stack's Synapse double and its storage, as `npm run stack:up` wrote them. */
function stackDouble(): Entry | undefined {
  const dir = process.env['STACK_DIR'] || join(REPO, '.stack')
  try {
    const found = JSON.parse(readFileSync(join(dir, 'run', 'synapse.json'), 'utf8')) as {
      endpoint: string
      pool: string
      caFile: string
      tokenFile: string
      storage: { account: string; container: string; blobEndpoint: string; keyFile: string }
    }
    return {
      name: 'synapse',
      kind: 'synapse',
      endpoint: found.endpoint,
      pool: found.pool,
      caFile: found.caFile,
      tokenFile: found.tokenFile,
      storage: {
        account: found.storage.account,
        container: found.storage.container,
        blobEndpoint: found.storage.blobEndpoint,
        auth: { type: 'key', keyFile: found.storage.keyFile },
        caFile: found.caFile,
      },
    }
  } catch {
    return undefined
  }
}

export const synapseKind = defineBackendKind({
  kind: 'synapse',
  summary:
    '{name, kind: synapse, endpoint, pool, storage?: {account, container, folder?, blobEndpoint?, auth, caFile?}, livyApiVersion?, caFile?, tokenFile?, maxLive?}',
  // with `storage` set, an instance reads staged files (its capabilities say so)
  capabilities: { readsStagedFiles: false, workDirArchives: true },
  settings: {
    SPARKGATE_SYNAPSE_TOKEN: Type.String({
      default: 'none',
      minLength: 1,
      description:
        'A bearer token for Synapse backends without tokenFile (secret, never logged); none = DefaultAzureCredential (managed identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, az login, …).',
    }),
    SPARKGATE_SYNAPSE_DOUBLE: Type.Unsafe<'auto' | 'none'>({
      type: 'string',
      enum: ['auto', 'none'],
      default: 'auto',
      description:
        "auto: SPARKGATE_BACKENDS=auto adds a `synapse` backend on the local stack's Synapse double and its Azurite storage when the stack runs them (.stack/run/synapse.json); none: it never does. A real workspace is an entry of SPARKGATE_BACKENDS.",
    }),
  },
  entry: SynapseEntry,
  auto: (s) => {
    if (s.SPARKGATE_SYNAPSE_DOUBLE === 'none') return []
    const double = stackDouble()
    return double ? [double] : []
  },
  create: (entry, s) => {
    const where = `synapse backend ${entry.name}`
    try {
      const token = entry.tokenFile
        ? secretFrom(entry.tokenFile, undefined, where, ['tokenFile', 'tokenEnv'])
        : undefined
      const storage = entry.storage
      const store = storage
        ? new AdlsStore({
            account: storage.account,
            container: storage.container,
            ...(storage.folder ? { folder: storage.folder } : {}),
            ...(storage.blobEndpoint ? { blobEndpoint: storage.blobEndpoint } : {}),
            auth: resolveStorageAuth(storage.auth, `${where}: storage.auth`),
            ...(storage.caFile ? { caFile: storage.caFile } : {}),
          })
        : undefined
      return {
        backend: new SynapseBackend({
          name: entry.name,
          endpoint: entry.endpoint,
          pool: entry.pool,
          ...(entry.livyApiVersion ? { livyApiVersion: entry.livyApiVersion } : {}),
          ...(entry.caFile ? { caFile: entry.caFile } : {}),
          // a static bearer token when one is given, else DefaultAzureCredential (managed
          // identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, az login, …)
          ...(token
            ? { credential: staticTokenCredential(token.reveal()) }
            : s.SPARKGATE_SYNAPSE_TOKEN !== 'none'
              ? { credential: staticTokenCredential(s.SPARKGATE_SYNAPSE_TOKEN) }
              : {}),
          ...(store ? { store } : {}),
        }),
        maxLive: entry.maxLive ?? 4,
        ...(store ? { store } : {}),
      }
    } catch (error) {
      if (error instanceof CredentialError) throw new BackendConfigError(error.message)
      throw error
    }
  },
})
