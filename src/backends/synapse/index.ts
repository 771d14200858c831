/**
 * The `synapse` kind: an Azure Synapse Spark pool through the real SDK
 * (`{name, kind: synapse, endpoint, pool, livyApiVersion?, caFile?, maxLive?}`).
 */
import { Type } from 'typebox'
import { defineBackendKind, entryFields } from '../backend-kind.js'
import { staticTokenCredential, SynapseBackend } from './synapse-backend.js'

export const synapseKind = defineBackendKind({
  kind: 'synapse',
  summary: '{name, kind: synapse, endpoint, pool, livyApiVersion?, caFile?, maxLive?}',
  capabilities: { readsStagedFiles: false, workDirArchives: true },
  settings: {
    SPARKGATE_SYNAPSE_TOKEN: Type.String({
      default: 'none',
      minLength: 1,
      description:
        'A bearer token for Synapse backends (secret, never logged); none = DefaultAzureCredential (managed identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, az login, …).',
    }),
  },
  entry: Type.Object(
    {
      ...entryFields('synapse'),
      endpoint: Type.String({ pattern: '^https://' }),
      pool: Type.String({ minLength: 1, maxLength: 64 }),
      livyApiVersion: Type.Optional(Type.String({ minLength: 1 })),
      caFile: Type.Optional(Type.String({ pattern: '^/' })),
    },
    { additionalProperties: false },
  ),
  create: (entry, s) => ({
    backend: new SynapseBackend({
      name: entry.name,
      endpoint: entry.endpoint,
      pool: entry.pool,
      ...(entry.livyApiVersion ? { livyApiVersion: entry.livyApiVersion } : {}),
      ...(entry.caFile ? { caFile: entry.caFile } : {}),
      // a static bearer token when one is given, else DefaultAzureCredential (managed
      // identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, az login, …)
      ...(s.SPARKGATE_SYNAPSE_TOKEN !== 'none'
        ? { credential: staticTokenCredential(s.SPARKGATE_SYNAPSE_TOKEN) }
        : {}),
    }),
    maxLive: entry.maxLive ?? 4,
  }),
})
