/** TypeBox schemas of tenants, their policy and quotas, and API keys. */
import { Type, type Static } from 'typebox'
import { Timestamp } from '../schemas/common.js'
import { ROLES } from './access.js'

export const TENANT_ID = /^[a-z][a-z0-9-]{0,62}$/
export const TenantId = Type.String({
  pattern: TENANT_ID.source,
  description: 'Lowercase letters, digits and -, starting with a letter (1 to 63).',
})

export const ClusterUser = Type.String({
  pattern: '^[a-z_][a-z0-9_.-]{0,31}$',
  description:
    'The user Spark runs as on the cluster (Livy proxyUser) and stages as on HDFS (user.name).',
})

/** A YARN queue name: a leaf name or a full path (root.team.etl), no spaces. */
export const YARN_QUEUE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/

export const EnginePolicySchema = Type.Object(
  {
    min: Type.Integer({
      minimum: 0,
      maximum: 20,
      description:
        'Warm engines kept running ahead of time (on `backend`). Server default: SPARKGATE_ENGINES_MIN.',
    }),
    max: Type.Integer({
      minimum: 0,
      maximum: 20,
      description:
        'Warm engines at most, per backend (0: none; a `warm` job is refused). Server default: SPARKGATE_ENGINES_MAX.',
    }),
    idleSeconds: Type.Integer({
      minimum: 5,
      maximum: 7 * 24 * 3600,
      description:
        'An engine stops after this long without a job. Server default: SPARKGATE_ENGINE_IDLE_SECONDS.',
    }),
    backend: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 64,
        description: 'Where the minimum runs (default: the default backend).',
      }),
    ),
  },
  { additionalProperties: false, description: "The tenant's warm engines (GET /v1/engines)." },
)
export type EnginePolicy = Static<typeof EnginePolicySchema>

export const PolicySchema = Type.Object(
  {
    uriPrefixes: Type.Array(Type.String({ minLength: 3, maxLength: 1024 }), {
      maxItems: 100,
      description:
        'URI prefixes a job may name beyond the tenant’s own HDFS area and dataset:// (e.g. hdfs://nn:8020/shared/, abfss://c@acct.dfs.core.windows.net/team/).',
    }),
    confAllow: Type.Array(
      Type.String({ pattern: '^spark\\.[A-Za-z0-9_.-]*\\*?$', maxLength: 256 }),
      {
        maxItems: 200,
        description:
          'Spark settings allowed beyond the server’s list: exact keys, or prefixes ending in *. A protected key is allowed only when named exactly.',
      },
    ),
    yarnQueues: Type.Array(Type.String({ pattern: YARN_QUEUE.source, maxLength: 255 }), {
      minItems: 1,
      maxItems: 100,
      uniqueItems: true,
      description:
        'YARN queues the tenant’s jobs may run in (a job’s `queue`); the first is the default of a job that names none. Server default: SPARKGATE_POLICY_YARN_QUEUES.',
    }),
    engines: Type.Optional(EnginePolicySchema),
  },
  { additionalProperties: false },
)
export type TenantPolicy = Static<typeof PolicySchema>

export const QuotasSchema = Type.Object(
  {
    maxQueuedJobs: Type.Integer({
      minimum: 0,
      maximum: 1_000_000,
      description: 'Jobs that have not ended (queued to running).',
    }),
    maxLiveJobs: Type.Integer({
      minimum: 1,
      maximum: 10_000,
      description: 'Jobs holding a live slot at once, on top of each backend’s cap.',
    }),
    datasetBytes: Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description: 'Bytes of uploaded datasets.',
    }),
    requestsPerMinute: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
  },
  { additionalProperties: false },
)
export type Quotas = Static<typeof QuotasSchema>

export const TenantSchema = Type.Object(
  {
    id: TenantId,
    name: Type.String(),
    clusterUser: ClusterUser,
    policy: PolicySchema,
    quotas: QuotasSchema,
    createdAt: Timestamp,
    updatedAt: Timestamp,
  },
  { $id: 'Tenant' },
)
export type Tenant = Static<typeof TenantSchema>
export const TenantRef = Type.Unsafe<Tenant>(Type.Ref('Tenant'))

export const TenantCreate = Type.Object(
  {
    name: TenantId,
    clusterUser: Type.Optional(ClusterUser),
    policy: Type.Optional(Type.Partial(PolicySchema)),
    quotas: Type.Optional(Type.Partial(QuotasSchema)),
  },
  { additionalProperties: false },
)
export type TenantCreate = Static<typeof TenantCreate>

export const TenantPatch = Type.Object(
  {
    clusterUser: Type.Optional(ClusterUser),
    policy: Type.Optional(Type.Partial(PolicySchema)),
    quotas: Type.Optional(Type.Partial(QuotasSchema)),
  },
  { additionalProperties: false, minProperties: 1 },
)
export type TenantPatch = Static<typeof TenantPatch>

export const RoleSchema = Type.Unsafe<(typeof ROLES)[number]>({
  type: 'string',
  enum: [...ROLES],
  description: 'admin (the platform), member (everything in its tenant), viewer (read-only)',
})

export const ApiKeySchema = Type.Object({
  id: Type.String(),
  tenant: TenantId,
  role: RoleSchema,
  name: Type.Optional(Type.String()),
  hint: Type.String({ description: 'The first characters of the key, to recognise it.' }),
  createdAt: Timestamp,
  expiresAt: Type.Optional(Timestamp),
})
export type ApiKey = Static<typeof ApiKeySchema>

export const KeyCreate = Type.Object(
  {
    role: RoleSchema,
    name: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
)
