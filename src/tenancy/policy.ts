/**
 * What a tenant's Spark job may name — the shape of a tenant's policy, and the one place
 * its checks are imported from. The rules live one concern a file:
 *
 *   uri-policy.ts   the URIs a job may name (its own area, dataset://, local folders,
 *                   admin-allowed prefixes), checked as written before anything resolves them
 *   conf-policy.ts  the Spark settings a tenant may set, and the values they may take
 *   queue-policy.ts the YARN queues a tenant's jobs may run in
 *   redaction.ts    which conf keys hold secrets, and their values shown as `***`
 */
import type { TenantPolicy } from './tenant-schema.js'

/**
 * What a job is checked against: its tenant's policy (PolicySchema, the one definition of
 * `uriPrefixes`, `confAllow` and `yarnQueues`: what its platform admin allowed) and the platform's local
 * folders (admin config, the same for every tenant).
 */
export type Policy = TenantPolicy & {
  /** Local folders a job may name with file:// (platform-wide, admin config), e.g. '/opt/sparkgate/jobs' */
  localFolders: string[]
}

export interface TenantArea {
  /** fs.defaultFS, e.g. 'hdfs://127.0.0.1:8020' */
  defaultFs: string
  /** the tenant's own HDFS folder, e.g. '/sparkgate/tenants/acme' (no trailing slash) */
  root: string
  /** its area in each other store, as URIs without a trailing slash, e.g. 'abfss://data@acct.dfs.core.windows.net/sparkgate/tenants/acme' */
  others?: string[]
}

/** One refused value: where, which rule (uri-policy, conf-policy, conf-value, queue-policy), and why. */
export interface PolicyEntry {
  field: string
  rule: string
  message: string
}

export { ARG_URI_SCHEMES, checkUris, uriProblem } from './uri-policy.js'
export { checkQueue } from './queue-policy.js'
export {
  CONF_ALLOWED,
  CONF_PROTECTED,
  CONF_REFUSED,
  CONF_VALUE_RULES,
  checkConf,
  type ConfValueRule,
} from './conf-policy.js'
export { DEFAULT_SECRET_PATTERNS, isSecretKey, redactConf } from './redaction.js'
