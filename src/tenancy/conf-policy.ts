/**
 * The Spark conf rules of a tenant's policy — a pure decision, no I/O.
 *
 * A key is allowed by the server's list (CONF_ALLOWED) or the tenant's `confAllow`; a
 * protected key (CONF_PROTECTED) is refused even when a wildcard covers it, unless
 * `confAllow` names it exactly; a refused key (CONF_REFUSED: spark.yarn.queue) is refused
 * always, for its own field sets it. Values of allowed keys follow CONF_VALUE_RULES.
 */
import type { Policy, PolicyEntry } from './policy.js'

/** Settings any tenant may tune: exact keys and 'prefix*' entries. */
export const CONF_ALLOWED: readonly string[] = [
  'spark.executor.memory',
  'spark.executor.cores',
  'spark.executor.instances',
  'spark.executor.memoryOverhead',
  'spark.executor.memoryOverheadFactor',
  'spark.executor.pyspark.memory',
  'spark.executor.heartbeatInterval',
  'spark.driver.memory',
  'spark.driver.cores',
  'spark.driver.memoryOverhead',
  'spark.driver.memoryOverheadFactor',
  'spark.driver.maxResultSize',
  'spark.default.parallelism',
  'spark.sql.*',
  'spark.dynamicAllocation.*',
  'spark.shuffle.*',
  'spark.reducer.*',
  'spark.memory.*',
  'spark.serializer',
  'spark.serializer.objectStreamReset',
  'spark.kryo.*',
  'spark.kryoserializer.*',
  'spark.task.cpus',
  'spark.task.maxFailures',
  'spark.stage.maxConsecutiveAttempts',
  'spark.speculation*',
  'spark.locality.wait*',
  'spark.network.timeout',
  'spark.rdd.compress',
  'spark.broadcast.*',
  'spark.io.compression.*',
  'spark.storage.level',
  'spark.ui.showConsoleProgress',
  'spark.python.worker.memory',
  'spark.python.worker.reuse',
  'spark.files.maxPartitionBytes',
  'spark.files.openCostInBytes',
  'spark.scheduler.mode',
  'spark.cleaner.*',
  'spark.checkpoint.compress',
]

/**
 * Settings that change who the job runs as, where it runs, what the driver's JVM or
 * Python loads before the job's code, security, logging and the paths Spark writes:
 * refused even under an allowed wildcard; a platform admin may allow one for a tenant by
 * naming it exactly in its `confAllow`. Matched case-insensitively.
 */
export const CONF_PROTECTED: readonly string[] = [
  'spark.app.*',
  'spark.master',
  'spark.submit.*',
  'spark.driver.extraJavaOptions',
  'spark.executor.extraJavaOptions',
  'spark.driver.defaultJavaOptions',
  'spark.executor.defaultJavaOptions',
  'spark.driver.extraClassPath',
  'spark.executor.extraClassPath',
  'spark.driver.extraLibraryPath',
  'spark.executor.extraLibraryPath',
  'spark.driver.userClassPathFirst',
  'spark.executor.userClassPathFirst',
  // Spark's older name of spark.executor.userClassPathFirst
  'spark.files.userClassPathFirst',
  'spark.driver.host',
  'spark.driver.bindAddress',
  'spark.driver.port',
  'spark.driver.supervise',
  'spark.driver.log.*',
  'spark.jars',
  'spark.jars.*',
  'spark.files',
  'spark.archives',
  'spark.pyspark.*',
  // the executors' Python for UDFs (Spark 3.5+), beside spark.pyspark.python
  'spark.sql.execution.pyspark.python',
  'spark.python.daemon.module',
  'spark.python.worker.module',
  'spark.r.*',
  'spark.yarn.*',
  'spark.kubernetes.*',
  'spark.mesos.*',
  'spark.kerberos.*',
  'spark.security.*',
  'spark.hadoop.*',
  'spark.hive.*',
  'spark.executorEnv.*',
  'spark.driverEnv.*',
  'spark.sql.warehouse.dir',
  'spark.sql.extensions',
  'spark.sql.catalog.*',
  'spark.sql.catalogImplementation',
  'spark.sql.hive.metastore.*',
  'spark.sql.streaming.checkpointLocation',
  'spark.sql.streaming.streamingQueryListeners',
  'spark.sql.queryExecutionListeners',
  'spark.sql.redaction.*',
  'spark.eventLog.*',
  'spark.history.*',
  'spark.metrics.conf*',
  'spark.plugins*',
  'spark.driver.plugins',
  'spark.executor.plugins',
  'spark.extraListeners',
  'spark.redaction.*',
  'spark.authenticate*',
  'spark.network.crypto.*',
  'spark.io.encryption.*',
  'spark.ssl.*',
  'spark.acls.*',
  'spark.admin.acls*',
  'spark.modify.acls*',
  'spark.ui.view.acls*',
  'spark.ui.acls*',
  'spark.ui.filters',
  'spark.user.groups.mapping',
  'spark.local.dir',
  'spark.storage.decommission.*',
]

/**
 * Settings refused even when a tenant's `confAllow` names them, each with the door to use
 * instead: what they set has its own field, checked by its own rule. Matched
 * case-insensitively.
 */
export const CONF_REFUSED: Readonly<Record<string, string>> = {
  'spark.yarn.queue':
    "is set by the job's queue field (body.queue), checked against the tenant's yarnQueues; it cannot be set in conf",
}

/** A rule for the value of a setting; `within` adds what a pattern cannot say (a cap). */
export interface ConfValueRule {
  pattern: RegExp
  description: string
  within?: (value: string) => boolean
}

const MAX_VALUE_LENGTH = 1024
const CONF_BAD_CHARS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/
const UNITS: Record<string, number> = { '': 1, k: 2 ** 10, m: 2 ** 20, g: 2 ** 30, t: 2 ** 40 }

/** A JVM size (512m, 4g, 1024kb); `bytesDefault`: no unit means bytes, else MiB. */
function size(cap: string, bytesDefault = false): ConfValueRule {
  const pattern = /^([1-9][0-9]{0,6})([kmgt]?)(b?)$/i
  const bytes = (value: string) => {
    const m = pattern.exec(value)!
    const unit = m[2]!.toLowerCase()
    const scale = unit === '' && m[3] === '' && !bytesDefault ? UNITS['m']! : UNITS[unit]!
    return Number(m[1]) * scale
  }
  const max = bytes(cap)
  return {
    pattern,
    description: `a size such as 512m or 4g (k, m, g, t; no unit means ${bytesDefault ? 'bytes' : 'MiB'}), at most ${cap}`,
    within: (value) => bytes(value) <= max,
  }
}

function integer(min: number, max: number): ConfValueRule {
  return {
    pattern: /^(0|[1-9][0-9]{0,8})$/,
    description: `an integer from ${min} to ${max}`,
    within: (value) => Number(value) >= min && Number(value) <= max,
  }
}

const BOOLEAN: ConfValueRule = { pattern: /^(true|false)$/i, description: 'true or false' }

/** Value rules by exact key, for the keys whose value Sparkgate can check. */
export const CONF_VALUE_RULES: Readonly<Record<string, ConfValueRule>> = {
  'spark.executor.memory': size('64g'),
  'spark.driver.memory': size('64g'),
  'spark.executor.memoryOverhead': size('64g'),
  'spark.driver.memoryOverhead': size('64g'),
  'spark.executor.pyspark.memory': size('64g'),
  'spark.python.worker.memory': size('64g'),
  'spark.driver.maxResultSize': size('64g', true),
  'spark.executor.cores': integer(1, 64),
  'spark.driver.cores': integer(1, 64),
  'spark.task.cpus': integer(1, 64),
  'spark.executor.instances': integer(1, 1000),
  'spark.dynamicAllocation.minExecutors': integer(0, 1000),
  'spark.dynamicAllocation.initialExecutors': integer(0, 1000),
  'spark.dynamicAllocation.maxExecutors': integer(1, 1000),
  'spark.default.parallelism': integer(1, 100_000),
  'spark.sql.shuffle.partitions': integer(1, 100_000),
  'spark.task.maxFailures': integer(1, 100),
  'spark.stage.maxConsecutiveAttempts': integer(1, 100),
  'spark.dynamicAllocation.enabled': BOOLEAN,
  'spark.dynamicAllocation.shuffleTracking.enabled': BOOLEAN,
  'spark.speculation': BOOLEAN,
  'spark.rdd.compress': BOOLEAN,
  'spark.shuffle.compress': BOOLEAN,
  'spark.shuffle.spill.compress': BOOLEAN,
  'spark.shuffle.service.enabled': BOOLEAN,
  'spark.broadcast.compress': BOOLEAN,
  'spark.checkpoint.compress': BOOLEAN,
  'spark.python.worker.reuse': BOOLEAN,
  'spark.ui.showConsoleProgress': BOOLEAN,
  'spark.kryo.registrationRequired': BOOLEAN,
  'spark.sql.adaptive.enabled': BOOLEAN,
  'spark.sql.adaptive.coalescePartitions.enabled': BOOLEAN,
  'spark.sql.adaptive.skewJoin.enabled': BOOLEAN,
  'spark.sql.execution.arrow.pyspark.enabled': BOOLEAN,
}

/** Whether an exact key or a 'prefix*' entry covers the key. */
function covers(entry: string, key: string, ignoreCase = false): boolean {
  const e = ignoreCase ? entry.toLowerCase() : entry
  const k = ignoreCase ? key.toLowerCase() : key
  return e.endsWith('*') ? k.startsWith(e.slice(0, -1)) : k === e
}

const CONF_KEY = /^spark\.[A-Za-z0-9_.-]+$/

/** Checks a job's Spark conf: returns one entry per refused key, field `${fieldPrefix}.${key}` (fieldPrefix default 'body.batch.conf'), rule 'conf-policy' (key not allowed / protected) or 'conf-value' (value rule broken). */
export function checkConf(
  conf: Record<string, string>,
  policy: Policy,
  fieldPrefix = 'body.batch.conf',
): PolicyEntry[] {
  const entries: PolicyEntry[] = []
  for (const [key, value] of Object.entries(conf)) {
    const field = `${fieldPrefix}.${key}`
    const refuse = (rule: string, message: string) => entries.push({ field, rule, message })
    if (!CONF_KEY.test(key)) {
      refuse(
        'conf-policy',
        'is not a Spark setting name (spark. followed by letters, digits, _ . -)',
      )
      continue
    }
    const lower = key.toLowerCase()
    if (Object.hasOwn(CONF_REFUSED, lower)) {
      refuse('conf-policy', CONF_REFUSED[lower]!)
      continue
    }
    const named = policy.confAllow.includes(key)
    if (!named && CONF_PROTECTED.some((p) => covers(p, key, true))) {
      refuse(
        'conf-policy',
        'is a protected Spark setting; only a platform admin can allow it for a tenant',
      )
      continue
    }
    if (
      !named &&
      !CONF_ALLOWED.some((a) => covers(a, key)) &&
      !policy.confAllow.some((a) => covers(a, key))
    ) {
      refuse(
        'conf-policy',
        "is not an allowed Spark setting; allowed: the server's list and the tenant's confAllow (see GET /v1/me policy)",
      )
      continue
    }
    if (typeof value !== 'string') {
      refuse('conf-value', 'must be a string')
      continue
    }
    if (value.length > MAX_VALUE_LENGTH || CONF_BAD_CHARS.test(value)) {
      refuse(
        'conf-value',
        `must be at most ${MAX_VALUE_LENGTH} characters, without newlines or other control characters`,
      )
      continue
    }
    const rule = Object.hasOwn(CONF_VALUE_RULES, key) ? CONF_VALUE_RULES[key] : undefined
    if (rule && !(rule.pattern.test(value) && (rule.within?.(value) ?? true)))
      refuse('conf-value', `must be ${rule.description}`)
  }
  return entries
}
