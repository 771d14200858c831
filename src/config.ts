/**
 * All configuration, from environment variables only. One TypeBox schema is the source
 * of the validation at boot, of the `Config` type and of docs/configuration.md
 * (`npm run docs:config` writes it; a test fails when it drifts).
 *
 * With no SPARKGATE_* variable set, every default points at the local stack that
 * `npm run stack:up` starts (ports from docker/local/stack.env; a test keeps them equal);
 * when that stack runs secured (`stack:up -- --secure`), the variables it concerns that are
 * left unset take its values (src/cluster-auth/settings.ts).
 * Each backend kind brings its own variables (src/backends/<kind>/index.ts), and MLflow
 * tracking its SPARKGATE_MLFLOW_* ones (src/mlflow/mlflow-settings.ts).
 */
import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { BACKEND_SETTINGS, backendProblems } from './backends/create-backends.js'
import {
  authSettingProblems,
  CLUSTER_AUTH_SETTINGS,
  secureStackDefaults,
} from './cluster-auth/settings.js'
import { DEFAULT_URL } from './client/client.js'
import { MLFLOW_SETTINGS, mlflowProblems } from './mlflow/mlflow-settings.js'
import { DEFAULT_SECRET_PATTERNS } from './tenancy/redaction.js'

const Url = (defaultValue: string, description: string) =>
  Type.String({ default: defaultValue, description, pattern: '^[a-z][a-z0-9+.-]*://.+' })

export const ConfigSchema = Type.Object(
  {
    // each backend kind's own variables (SPARKGATE_LIVY_URL, SPARKGATE_SPARK_HOME, …)
    ...BACKEND_SETTINGS,
    // MLflow tracking: URL (none: off), auth, token
    ...MLFLOW_SETTINGS,
    // the gateway's Kerberos identity; how it authenticates to WebHDFS
    ...CLUSTER_AUTH_SETTINGS,
    SPARKGATE_HOST: Type.String({
      default: '127.0.0.1',
      minLength: 1,
      description: 'Address the gateway listens on.',
    }),
    SPARKGATE_PORT: Type.Integer({
      default: 8080,
      minimum: 0,
      maximum: 65535,
      description: 'Port the gateway listens on (0 picks a free one).',
    }),
    SPARKGATE_LOG_LEVEL: Type.Union(
      ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
      { default: 'info', description: 'pino log level.' },
    ),
    SPARKGATE_REDIS_URL: Url(
      'redis://127.0.0.1:6380',
      'Redis holding job records and the BullMQ queues (credentials may be given in the URL; they are never logged).',
    ),
    SPARKGATE_REDIS_PREFIX: Type.String({
      default: 'sparkgate',
      pattern: '^[A-Za-z0-9_.:{}-]+$',
      description:
        'Prefix of every Redis key and BullMQ queue of this gateway (key names: src/redis/keys.ts). Every Lua script gets each key it touches in KEYS, so on Redis Cluster a prefix in braces ({sparkgate}) puts all of them in one slot.',
    }),
    SPARKGATE_WEBHDFS_URL: Url(
      'http://127.0.0.1:9870/webhdfs/v1',
      'WebHDFS endpoint of the NameNode (http or https), or of the gateway in front of it (https://gateway/webhdfs/v1).',
    ),
    SPARKGATE_HDFS_DEFAULT_FS: Url(
      'hdfs://127.0.0.1:8020',
      'fs.defaultFS of the cluster: how Spark jobs address the files Sparkgate stages.',
    ),
    SPARKGATE_HDFS_USER: Type.String({
      default: 'sparkgate',
      minLength: 1,
      description:
        "user.name of the gateway's own WebHDFS calls under simple authentication (SPARKGATE_HDFS_AUTH none or basic); a tenant's files are staged as its cluster user (Kerberos: doas).",
    }),
    SPARKGATE_HDFS_ROOT: Type.String({
      default: '/sparkgate',
      pattern: '^(/[A-Za-z0-9._-]+)+$',
      description:
        "HDFS folder of everything Sparkgate stages: each tenant's area tenants/<tenant>/ (datasets/, runs/, tmp/), and the shared artifacts/ (jobs/train.py).",
    }),
    SPARKGATE_DATASET_MAX_BYTES: Type.Integer({
      default: 10737418240,
      minimum: 1,
      description:
        'Largest dataset upload in bytes (10 GiB); a larger one gets a 413 and leaves nothing behind.',
    }),
    SPARKGATE_BACKENDS: Type.String({
      default: 'auto',
      description:
        'The Spark backends: auto = livy (from SPARKGATE_LIVY_URL) plus local when a Spark home is known; or a JSON array of named {name, kind, …} entries of the registered kinds (docs/backends.md).',
    }),
    SPARKGATE_ROLES: Type.String({
      default: 'api,worker,tracker',
      pattern: '^(api|worker|tracker)(,(api|worker|tracker))*$',
      description:
        'Which parts run in this process: api (HTTP), worker (submits queued jobs), tracker (follows live jobs). Run several processes with different roles against one Redis to scale out.',
    }),
    SPARKGATE_DEFAULT_BACKEND: Type.String({
      default: 'livy',
      minLength: 1,
      description: 'Backend of jobs that name none.',
    }),
    SPARKGATE_TRACKER_INTERVAL_MS: Type.Integer({
      default: 2000,
      minimum: 100,
      maximum: 600000,
      description:
        'Tracker tick: one backend list call per tick covers every live job of that backend.',
    }),
    SPARKGATE_ENGINES_MIN: Type.Integer({
      default: 0,
      minimum: 0,
      maximum: 20,
      description:
        'Warm engines each tenant keeps running ahead of time, unless its policy says otherwise (policy `engines.min`).',
    }),
    SPARKGATE_ENGINES_MAX: Type.Integer({
      default: 1,
      minimum: 0,
      maximum: 20,
      description:
        'Warm engines a tenant may have per backend, unless its policy says otherwise (policy `engines.max`); 0 turns them off.',
    }),
    SPARKGATE_ENGINE_IDLE_SECONDS: Type.Integer({
      default: 600,
      minimum: 5,
      maximum: 604800,
      description:
        "A warm engine stops after this long without a job, unless its tenant's policy says otherwise (`engines.idleSeconds`).",
    }),
    SPARKGATE_ENGINE_GATEWAY_URL: Type.String({
      default: '',
      pattern: '^(https?://[^\\s]+)?$',
      description:
        "The gateway's URL as a warm engine's driver reaches it (it polls /engine/v1 for work). Empty: http://SPARKGATE_HOST:SPARKGATE_PORT (127.0.0.1 for 0.0.0.0).",
    }),
    SPARKGATE_SUBMIT_BACKOFF_MS: Type.Integer({
      default: 1000,
      minimum: 10,
      maximum: 600000,
      description:
        'First retry delay after a transient backend fault (refused, timeout, 5xx, 429); doubles per retry, ±20 % jitter.',
    }),
    SPARKGATE_SUBMIT_BACKOFF_MAX_MS: Type.Integer({
      default: 30000,
      minimum: 10,
      maximum: 3600000,
      description:
        'Longest retry delay between transient backend faults (retried until SPARKGATE_SUBMIT_DEADLINE).',
    }),
    SPARKGATE_SUBMIT_DEADLINE: Type.String({
      default: '30m',
      pattern: '^[1-9][0-9]{0,6}[smhd]$',
      description:
        'How long a job may stay in staging or submitting (transient faults are retried meanwhile) before it fails with SUBMIT_TIMEOUT and frees its slot; and how long a backend may go unseen by every tracker before its jobs fail with BACKEND_REMOVED. A number and s, m, h or d.',
    }),
    SPARKGATE_WORKER_LOCK_MS: Type.Integer({
      default: 30000,
      minimum: 1000,
      maximum: 600000,
      description:
        'How long a dead worker holds a job before another takes it over (BullMQ lock duration); also the graceful-shutdown deadline.',
    }),
    SPARKGATE_IDEMPOTENCY_TTL_SECONDS: Type.Integer({
      default: 86400,
      minimum: 60,
      maximum: 30 * 86400,
      description: 'How long an Idempotency-Key is remembered.',
    }),
    SPARKGATE_FAILURE_LOG_LINES: Type.Integer({
      default: 50,
      minimum: 0,
      maximum: 1000,
      description: "Last lines of a failed application's log kept in the job's error.logLines.",
    }),
    SPARKGATE_FAILPOINTS: Type.String({
      default: 'none',
      pattern: '^(none|crash-after-submit)(,(crash-after-submit))*$',
      description:
        'Testing only: crash-after-submit kills the process (SIGKILL) between the backend accepting a batch and the gateway recording it.',
    }),
    SPARKGATE_ADMIN_KEY: Type.String({
      default: '',
      pattern: '^([\\x21-\\x7e]{24,256})?$',
      secret: true,
      description:
        'The platform admin API key (secret; at least 24 printable characters, never logged). Unset: the gateway generates one at first start, keeps only its SHA-256 (in Redis, so every replica knows it), prints the key once on stderr and writes it to SPARKGATE_ADMIN_KEY_FILE.',
    }),
    SPARKGATE_ADMIN_KEY_FILE: Type.String({
      default: '.sparkgate/admin-key',
      minLength: 1,
      description:
        'Where a generated admin key is written (mode 0600) at first start; its path is logged, never the key.',
    }),
    SPARKGATE_TENANT_MAX_QUEUED_JOBS: Type.Integer({
      default: 1000,
      minimum: 0,
      maximum: 1000000,
      description:
        "Default quota: a tenant's jobs that have not ended; over it POST /v1/jobs is a 409 naming maxQueuedJobs.",
    }),
    SPARKGATE_TENANT_MAX_LIVE_JOBS: Type.Integer({
      default: 20,
      minimum: 1,
      maximum: 10000,
      description:
        "Default quota: a tenant's jobs live on backends at once, on top of each backend's cap; its next job waits while other tenants' go on.",
    }),
    SPARKGATE_TENANT_DATASET_BYTES: Type.Integer({
      default: 107374182400,
      minimum: 0,
      description:
        "Default quota: bytes of a tenant's datasets (100 GiB); over it an upload is a 413 naming datasetBytes.",
    }),
    SPARKGATE_TENANT_REQUESTS_PER_MINUTE: Type.Integer({
      default: 6000,
      minimum: 1,
      maximum: 10000000,
      description:
        'Default quota: /v1 requests a minute per tenant, counted in Redis so replicas agree; over it a 429 with Retry-After.',
    }),
    SPARKGATE_POLICY_LOCAL_FOLDERS: Type.String({
      default: '',
      pattern: '^(/[^,]*)?(,/[^,]*)*$',
      description:
        'Comma-separated local folders jobs may name with file:// or local: (none by default).',
    }),
    SPARKGATE_POLICY_YARN_QUEUES: Type.String({
      default: 'default',
      pattern: '^[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*(,[A-Za-z0-9_-]+(\\.[A-Za-z0-9_-]+)*)*$',
      description:
        "Comma-separated YARN queues of a tenant's policy when its admin sets none (yarnQueues): the first is the queue of a job that names none. A tenant's own yarnQueues replaces the list.",
    }),
    SPARKGATE_SECRET_CONF_KEYS: Type.String({
      default: DEFAULT_SECRET_PATTERNS.join(','),
      description:
        'Comma-separated globs of Spark conf keys whose values are shown as *** in every reply and log.',
    }),
    SPARKGATE_AUDIT_MAX_ENTRIES: Type.Integer({
      default: 100000,
      minimum: 100,
      maximum: 100000000,
      description: 'Audit entries kept (GET /v1/audit); older ones are dropped.',
    }),
    SPARKGATE_MAX_EVENT_STREAMS: Type.Integer({
      default: 20,
      minimum: 1,
      maximum: 10000,
      description: 'Concurrent event streams (SSE) per tenant on one gateway (over it: 429).',
    }),
    SPARKGATE_UPLOAD_IDLE_TIMEOUT_MS: Type.Integer({
      default: 30000,
      minimum: 100,
      maximum: 3600000,
      description: 'An upload that sends no byte for this long is cut with a 408; nothing is kept.',
    }),
    SPARKGATE_EVENTS_RETENTION: Type.String({
      default: '7d',
      pattern: '^[1-9][0-9]{0,6}[smhd]$',
      description:
        "How long each tenant's event log (GET /v1/events) keeps an event: a number and s, m, h or d. Older events are trimmed as new ones are written; a webhook or Kafka relay that falls further behind than this loses what was trimmed.",
    }),
    SPARKGATE_WEBHOOK_BACKOFF_MS: Type.Integer({
      default: 5000,
      minimum: 10,
      maximum: 3600000,
      description:
        'First delay before a failed webhook delivery is tried again; each next delay doubles, with ±50 % jitter.',
    }),
    SPARKGATE_WEBHOOK_MAX_ATTEMPTS: Type.Integer({
      default: 8,
      minimum: 1,
      maximum: 100,
      description:
        "Tries of one webhook delivery before it goes to the webhook's dead-letter queue (?status=dead, replayable).",
    }),
    SPARKGATE_WEBHOOK_TIMEOUT_MS: Type.Integer({
      default: 15000,
      minimum: 100,
      maximum: 120000,
      description:
        'How long one webhook delivery may take (connect to last byte) before it counts as failed.',
    }),
    SPARKGATE_WEBHOOK_ALLOW_PRIVATE: Type.Boolean({
      default: false,
      description:
        'true allows webhook URLs on private, loopback and link-local addresses; otherwise they are refused when the webhook is created and again at each delivery (after DNS resolution).',
    }),
    SPARKGATE_KAFKA_BROKERS: Type.String({
      default: '127.0.0.1:9092',
      pattern: '^(none|[^,\\s]+:[0-9]+(,[^,\\s]+:[0-9]+)*)$',
      description:
        "Kafka bootstrap brokers, comma-separated host:port; none turns Kafka off. The default is the local stack's broker. Every event is produced to SPARKGATE_KAFKA_TOPIC.",
    }),
    SPARKGATE_KAFKA_TOPIC: Type.String({
      default: 'sparkgate.events',
      pattern: '^[A-Za-z0-9._-]{1,249}$',
      description: 'Kafka topic (an Event Hubs event hub) the events are produced to.',
    }),
    SPARKGATE_KAFKA_SECURITY_PROTOCOL: Type.Union(
      ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].map((l) => Type.Literal(l)),
      {
        default: 'PLAINTEXT',
        description: 'How to reach the brokers; SASL_SSL for Azure Event Hubs.',
      },
    ),
    SPARKGATE_KAFKA_SASL_MECHANISM: Type.Union(
      ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'].map((l) => Type.Literal(l)),
      { default: 'PLAIN', description: 'SASL mechanism (PLAIN for Azure Event Hubs).' },
    ),
    SPARKGATE_KAFKA_SASL_USERNAME: Type.String({
      default: '',
      description: 'SASL user ($ConnectionString for Azure Event Hubs).',
    }),
    SPARKGATE_KAFKA_SASL_PASSWORD: Type.String({
      default: '',
      secret: true,
      description:
        'SASL password (secret; for Azure Event Hubs the namespace connection string). Never logged.',
    }),
    SPARKGATE_QUEUE_BOARD_READ_ONLY: Type.Boolean({
      default: true,
      description:
        'Bull Board at /admin/queues only shows the queues; false lets the platform admin retry, promote and remove jobs there (a hand-retried submission can run a job twice).',
    }),
    SPARKGATE_URL: Type.String({
      default: DEFAULT_URL,
      description: 'Client side only (CLI, notebook): where the gateway is. Ignored by the server.',
    }),
    SPARKGATE_API_KEY: Type.String({
      default: '',
      secret: true,
      description:
        'Client side only (CLI, notebook): the API key to call with (secret). Ignored by the server.',
    }),
    SPARKGATE_READY_TIMEOUT_MS: Type.Integer({
      default: 2000,
      minimum: 100,
      maximum: 60000,
      description: 'How long /readyz waits for each dependency before calling it down.',
    }),
  },
  { additionalProperties: false },
)

export type Config = Static<typeof ConfigSchema>

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`)
    this.name = 'ConfigError'
  }
}

/**
 * Reads every SPARKGATE_* variable, applies defaults and converts types; throws a
 * ConfigError naming each bad variable (unknown names included: a typo must not pass
 * silently as a default).
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith('SPARKGATE_') && value !== undefined && value !== '') raw[key] = value
  }
  // a secured local stack's WebHDFS, CA and Kerberos identity, beneath what is set
  for (const [key, value] of Object.entries(secureStackDefaults(env))) raw[key] ??= value
  const known = Object.keys(ConfigSchema.properties)
  const problems = Object.keys(raw)
    .filter((key) => !known.includes(key))
    .map((key) => `${key}: unknown variable (known: ${known.join(', ')})`)
  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, raw))
  if (problems.length === 0 && Value.Check(ConfigSchema, value)) {
    problems.push(
      ...backendProblems(value.SPARKGATE_BACKENDS),
      ...mlflowProblems(value),
      ...authSettingProblems('SPARKGATE_HDFS_AUTH', value.SPARKGATE_HDFS_AUTH),
      ...authSettingProblems('SPARKGATE_LIVY_AUTH', value.SPARKGATE_LIVY_AUTH),
    )
    if (problems.length === 0) return value
    throw new ConfigError(problems)
  }
  for (const error of Value.Errors(ConfigSchema, value)) {
    const name = error.instancePath.replace(/^\//, '')
    // unknown names were reported above, with the list of known ones
    if (error.keyword === 'additionalProperties' || (name && !known.includes(name))) continue
    const secret =
      name && (ConfigSchema.properties as Record<string, { secret?: boolean }>)[name]?.secret
    const shown = name && !secret ? JSON.stringify((value as Record<string, unknown>)[name]) : ''
    problems.push(`${name}: ${error.message}${shown ? ` (got ${shown})` : ''}`)
  }
  throw new ConfigError(problems)
}

/** Config for tests and tools: defaults plus the given overrides, validated the same way. */
export function configWith(overrides: Partial<Record<keyof Config, string | number>>): Config {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(overrides)) env[key] = String(value)
  return loadConfig(env)
}
