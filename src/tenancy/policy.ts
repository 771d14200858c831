/**
 * What a tenant's Spark job may name — a pure decision, no I/O.
 *
 * URIs: a job may name its own HDFS area (`<defaultFs><root>/…`, or a bare `/path` on the
 * default file system), `dataset://<id>` references, `file:`/`local:` paths under the
 * platform's local folders, and whatever starts with a prefix its admin allowed. Every
 * other URI is refused. Values are checked as written, before anything resolves them, so
 * the rules refuse what different parsers could read differently (Hadoop's Path keeps `?`
 * and `#` in the path and normalises `..`; java.net.URI and WHATWG URL treat them apart):
 * no `.`/`..` or empty segments after percent-decoding, no encoded `/` or `%`, no
 * whitespace, control characters or backslashes, no query outside http(s), and a
 * fragment only as a plain link name (`app.zip#env`).
 *
 * Spark conf: a key is allowed by the server's list (CONF_ALLOWED) or the tenant's
 * `confAllow`; a protected key (CONF_PROTECTED) is refused even when a wildcard covers
 * it, unless `confAllow` names it exactly. Values of allowed keys follow CONF_VALUE_RULES.
 *
 * Secrets: conf keys matching a glob of DEFAULT_SECRET_PATTERNS (or the caller's list)
 * are shown as `***` by redactConf.
 */

export interface Policy {
  /** Extra URI prefixes this tenant may name, beyond its own area and dataset:// (set by the platform admin per tenant), e.g. 'hdfs://127.0.0.1:8020/shared/', 'abfss://c@acct.dfs.core.windows.net/team/', 'https://repo.example.com/jars/' */
  uriPrefixes: string[]
  /** Local folders a job may name with file:// (platform-wide, admin config), e.g. '/opt/sparkgate/jobs' */
  localFolders: string[]
  /** Spark conf keys this tenant may set beyond the server's allow-list: exact keys or prefixes ending in '*'. Naming a protected key here (exactly, not via a wildcard) allows it. */
  confAllow: string[]
}

export interface TenantArea {
  /** fs.defaultFS, e.g. 'hdfs://127.0.0.1:8020' */
  defaultFs: string
  /** the tenant's own HDFS folder, e.g. '/sparkgate/tenants/acme' (no trailing slash) */
  root: string
}

/** One refused value: where, which rule (uri-policy, conf-policy, conf-value), and why. */
export interface PolicyEntry {
  field: string
  rule: string
  message: string
}

// ---------------------------------------------------------------------------------------
// URIs

/** Schemes that make an arg a URI worth checking (filesystems and network locations). */
export const ARG_URI_SCHEMES: readonly string[] = [
  'file',
  'hdfs',
  'webhdfs',
  'swebhdfs',
  'viewfs',
  's3',
  's3a',
  's3n',
  'gs',
  'abfs',
  'abfss',
  'wasb',
  'wasbs',
  'adl',
  'http',
  'https',
  'ftp',
  'sftp',
  'local',
  'jar',
  'o3fs',
  'ofs',
]
const ARG_SCHEMES = new Set(ARG_URI_SCHEMES)

const DATASET_REF = /^dataset:\/\/[0-9a-f]{64}$/
const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/
/** RFC 3986 appendix B, with the scheme required; the last group is all after the authority. */
const URI_PARTS =
  /^([A-Za-z][A-Za-z0-9+.-]*):(?:\/\/([^/?#]*))?(([^?#]*)(?:\?([^#]*))?(?:#(.*))?)$/s
/** Whitespace, C0/C1 controls, Unicode line breaks and backslashes: never in a URI we pass. */
const BAD_CHARS = /[\s\u0000-\u001f\u007f-\u009f\\]/
/** The same after percent-decoding, except that a space is a fine character of a name. */
const DECODED_BAD_CHARS = /[^\S ]|[\u0000-\u001f\u007f-\u009f\\]/
/** A fragment is allowed only as a link name (`--files a.txt#alias`, `env.zip#env`). */
const LINK_NAME = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/
/** Schemes whose `?` everyone reads as a query; elsewhere Hadoop keeps it in the path. */
const QUERY_SCHEMES = new Set(['http', 'https'])

interface UriParts {
  scheme: string
  authority: string | undefined
  /** path, ?query and #fragment as written */
  rest: string
  path: string
  query: string | undefined
  fragment: string | undefined
}

/** The parts of a URI with a scheme (or undefined without one). */
function parseUri(value: string): UriParts | undefined {
  const m = URI_PARTS.exec(value)
  if (!m) return undefined
  return {
    scheme: m[1]!.toLowerCase(),
    authority: m[2],
    rest: m[3]!,
    path: m[4]!,
    query: m[5],
    fragment: m[6],
  }
}

/** The authority with its host lowercased; user info and port stay as written. */
function normAuthority(authority: string): string {
  const at = authority.lastIndexOf('@')
  const user = at >= 0 ? authority.slice(0, at + 1) : ''
  const hostPort = authority.slice(at + 1)
  // an IPv6 literal in brackets, or up to the port's colon; always matches
  const m = /^(\[[^\]]*\]|[^:]*)(:.*)?$/s.exec(hostPort)!
  return `${user}${m[1]!.toLowerCase()}${m[2] ?? ''}`
}

/** The URI with scheme and host lowercased, for prefix comparison. */
function normUri(value: string): string | undefined {
  const p = parseUri(value)
  if (!p) return undefined
  const authority = p.authority !== undefined ? `//${normAuthority(p.authority)}` : ''
  return `${p.scheme}:${authority}${p.rest}`
}

/** An absolute folder without a trailing slash and with no odd segment, or undefined. */
function normFolder(folder: string): string | undefined {
  const f = folder.replace(/\/+$/, '')
  if (!f.startsWith('/') || BAD_CHARS.test(f)) return undefined
  const segments = f.slice(1).split('/')
  if (segments.some((s) => s === '' || s === '.' || s === '..')) return undefined
  return f
}

/** Whether `path` is `folder` or below it (segment boundary). */
function within(path: string, folder: string): boolean {
  return path === folder || path.startsWith(`${folder}/`)
}

type Decoded = { path: string; problem?: undefined } | { path?: undefined; problem: string }

/**
 * Percent-decodes a path and refuses what could name something other than it seems:
 * undecodable or double-encoded text, an encoded `/`, controls and backslashes after
 * decoding, `.`/`..` segments, and empty segments (`//`) other than a trailing slash.
 */
function decodePath(raw: string): Decoded {
  if (/%2f/i.test(raw)) return { problem: 'must not percent-encode a slash (%2F)' }
  let path: string
  try {
    path = decodeURIComponent(raw)
  } catch {
    return { problem: 'has an invalid percent-encoding' }
  }
  if (path.includes('%')) return { problem: 'must not percent-encode a percent sign (%25)' }
  if (DECODED_BAD_CHARS.test(path))
    return {
      problem: 'must not contain control characters, line breaks or backslashes, encoded or not',
    }
  const segments = path.split('/')
  if (segments.some((s) => s === '.' || s === '..'))
    return { problem: "must not contain '.' or '..' path segments (encoded or not)" }
  // a leading '' for an absolute path and a trailing '' for a trailing slash are fine
  if (segments.slice(1, -1).some((s) => s === ''))
    return { problem: 'must not contain empty path segments (//)' }
  return { path }
}

interface DefaultFs {
  scheme: string
  authority: string
  /** scheme://authority, normalised, to qualify bare paths for prefix comparison */
  base: string
}

function parseDefaultFs(defaultFs: string): DefaultFs | undefined {
  const p = parseUri(defaultFs)
  if (!p || p.authority === undefined || (p.path !== '' && p.path !== '/')) return undefined
  if (p.query !== undefined || p.fragment !== undefined) return undefined
  const authority = normAuthority(p.authority)
  return { scheme: p.scheme, authority, base: `${p.scheme}://${authority}` }
}

/** Whether a (normalised) URI starts with one of the prefixes, on a boundary. */
function matchesPrefix(normalized: string, prefixes: string[]): boolean {
  for (const raw of prefixes) {
    const prefix = normUri(raw)
    if (!prefix) continue
    const scheme = prefix.slice(0, prefix.indexOf(':'))
    // file: and local: are the local folders' business; dataset: is resolved later
    if (scheme === 'file' || scheme === 'local' || scheme === 'dataset') continue
    if (!normalized.startsWith(prefix)) continue
    if (
      prefix.endsWith('/') ||
      normalized.length === prefix.length ||
      normalized[prefix.length] === '/'
    )
      return true
  }
  return false
}

function listOrNone(items: string[], max = 5): string {
  if (items.length === 0) return 'none'
  const shown = items.slice(0, max).join(', ')
  return items.length > max ? `${shown} and ${items.length - max} more` : shown
}

function areaText(area: TenantArea): string {
  const fs = parseDefaultFs(area.defaultFs)
  const root = normFolder(area.root)
  if (!fs || !root) return 'its own area (not configured)'
  return `its own area ${fs.base}${root}/`
}

function notAllowed(area: TenantArea, policy: Policy): string {
  return (
    `is not allowed: a job may name ${areaText(area)}, dataset:// references, ` +
    `and the prefixes its admin allowed (${listOrNone(policy.uriPrefixes)})`
  )
}

function localNotAllowed(policy: Policy): string {
  const folders = policy.localFolders.map(normFolder).filter((f) => f !== undefined)
  if (folders.length === 0)
    return 'is not allowed: no local folder is open to jobs for file: and local: URIs'
  return `is not allowed: file: and local: URIs must be under ${listOrNone(folders.map((f) => `${f}/`))}`
}

/** undefined when allowed; otherwise why not, as a sentence fragment that follows the field name ('is not allowed: a job may name its own area hdfs://…/sparkgate/tenants/acme/, …'); it never repeats the value. */
export function uriProblem(value: string, area: TenantArea, policy: Policy): string | undefined {
  if (DATASET_REF.test(value)) return undefined
  if (value === '') return 'must not be empty'
  if (BAD_CHARS.test(value)) return 'must not contain whitespace, control characters or backslashes'

  const fs = parseDefaultFs(area.defaultFs)
  const root = normFolder(area.root)

  let parts: UriParts
  if (!SCHEME.test(value)) {
    // a bare path: absolute means a path on the default file system
    if (!value.startsWith('/'))
      return 'must be an absolute URI (scheme://host/path) or an absolute path (/…)'
    if (value.startsWith('//')) return 'must not start with // (name the scheme and host)'
    const m = /^([^?#]*)(?:\?([^#]*))?(?:#(.*))?$/s.exec(value)!
    parts = {
      scheme: '',
      authority: undefined,
      rest: value,
      path: m[1]!,
      query: m[2],
      fragment: m[3],
    }
  } else {
    // SCHEME matched, so URI_PARTS does too
    parts = parseUri(value)!
    if (parts.scheme === 'dataset')
      return 'is not a dataset reference: write dataset://<the 64-hex id of an uploaded dataset>'
    try {
      new URL(value)
    } catch {
      return 'is not a valid URI'
    }
  }

  // the shape every route requires
  if (parts.query !== undefined && !QUERY_SCHEMES.has(parts.scheme))
    return "must not contain '?' (only http and https URIs take a query)"
  if (parts.fragment !== undefined) {
    if (!LINK_NAME.test(parts.fragment))
      return "may end in #name only with a plain link name (letters, digits, '.', '_', '-')"
    if (parts.path === '' || parts.path.endsWith('/'))
      return 'may end in #name only after a file name'
  }
  const local = parts.scheme === 'file' || parts.scheme === 'local'
  const hasPath = parts.path !== ''
  if (hasPath && !parts.path.startsWith('/'))
    return 'must be an absolute URI (its path must start with /)'
  if (!hasPath && (local || parts.scheme === '' || parts.authority === undefined))
    return 'must name a path'
  const decoded = decodePath(parts.path)
  if (decoded.problem !== undefined) return decoded.problem
  const path = decoded.path === '' ? '/' : decoded.path
  // with a fragment, Hadoop may read `<path>#name` as one name: keep it strictly inside
  const inside = (folder: string) =>
    parts.fragment === undefined ? within(path, folder) : path.startsWith(`${folder}/`)

  // the default file system: a bare path, or the defaultFs scheme with its authority
  // (or none: Hadoop qualifies hdfs:/x and hdfs:///x with the default authority)
  let qualified: string | undefined
  if (fs) {
    const onDefaultFs =
      parts.scheme === '' ||
      (parts.scheme === fs.scheme &&
        (parts.authority === undefined ||
          parts.authority === '' ||
          normAuthority(parts.authority) === fs.authority))
    if (onDefaultFs) {
      if (root && inside(root)) return undefined
      qualified = fs.base + parts.rest
    }
  } else if (parts.scheme === '') {
    return notAllowed(area, policy)
  }

  // file: and local: name the node's own disk: only the platform's local folders
  if (local) {
    const host = parts.authority
    if (host !== undefined && host !== '' && host.toLowerCase() !== 'localhost')
      return `names another host (${parts.scheme}://<host>/…): a job may name local files only on its own node`
    for (const raw of policy.localFolders) {
      const folder = normFolder(raw)
      if (folder && inside(folder)) return undefined
    }
    return localNotAllowed(policy)
  }

  const normalized = qualified ?? normUri(value)
  if (normalized !== undefined && matchesPrefix(normalized, policy.uriPrefixes)) return undefined
  return notAllowed(area, policy)
}

function looksLikeUri(value: string): boolean {
  const m = SCHEME.exec(value.trimStart())
  return m !== null && ARG_SCHEMES.has(m[1]!.toLowerCase())
}

/**
 * The URIs an arg names: the whole arg when it looks like one, else the part after the
 * first '=' (`--input=hdfs://…`); a comma-separated list of URIs gives each of them.
 */
function argUris(arg: string): { uris: string[]; afterEquals: boolean } {
  let text: string | undefined
  let afterEquals = false
  if (looksLikeUri(arg)) text = arg
  else {
    const eq = arg.indexOf('=')
    if (eq > 0 && looksLikeUri(arg.slice(eq + 1))) {
      text = arg.slice(eq + 1)
      afterEquals = true
    }
  }
  if (text === undefined) return { uris: [], afterEquals }
  const pieces = text.split(',')
  if (pieces.length > 1 && pieces.every((p, i) => i === 0 || looksLikeUri(p)))
    return { uris: pieces, afterEquals }
  return { uris: [text], afterEquals }
}

/** Checks each [field, value] pair (e.g. ['body.batch.file', 'hdfs://…'], ['body.batch.args.2', '--in=…']) and returns one entry per refused one, rule 'uri-policy'. For fields whose name contains '.args.' only values that look like URIs are checked (a scheme followed by ':' and '//' e.g. 'hdfs://x', 's3a://b/k', 'file:/etc/passwd' as well — anything matching /^[A-Za-z][A-Za-z0-9+.-]*:/ where the scheme is one of a known list of filesystem/network schemes: file, hdfs, webhdfs, swebhdfs, viewfs, s3, s3a, s3n, gs, abfs, abfss, wasb, wasbs, adl, http, https, ftp, sftp, local, jar, o3fs, ofs; and also `--key=<uri>` style args where the part after the first '=' looks like such a URI). Non-arg fields are always checked. */
export function checkUris(
  fields: [string, string][],
  area: TenantArea,
  policy: Policy,
): PolicyEntry[] {
  const entries: PolicyEntry[] = []
  for (const [field, value] of fields) {
    if (!field.includes('.args.')) {
      const problem = uriProblem(value, area, policy)
      if (problem) entries.push({ field, rule: 'uri-policy', message: problem })
      continue
    }
    const { uris, afterEquals } = argUris(value)
    for (const uri of uris) {
      const problem = uriProblem(uri, area, policy)
      if (!problem) continue
      const where = afterEquals
        ? "names a URI after '=' that "
        : uris.length > 1
          ? 'names a URI that '
          : ''
      entries.push({ field, rule: 'uri-policy', message: `${where}${problem}` })
      break
    }
  }
  return entries
}

// ---------------------------------------------------------------------------------------
// Spark conf

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

// ---------------------------------------------------------------------------------------
// Secrets

/**
 * Conf keys whose values are secrets (passwords, tokens, access keys, SAS): matched
 * against the whole key, case-insensitively. Narrow on purpose: `*.key` only matches a
 * key ending in `.key`, so spark.kryo.* and spark.sql.* settings stay readable.
 */
export const DEFAULT_SECRET_PATTERNS: readonly string[] = [
  '*password*',
  '*passwd*',
  '*passphrase*',
  '*secret*',
  '*token*',
  '*credential*',
  '*.key',
  '*.key.*',
  '*apikey*',
  '*api.key*',
  '*.sas',
  '*.sas.*',
  '*jaas.config*',
  '*.auth',
]

const globs = new Map<string, RegExp>()
function globRegExp(pattern: string): RegExp {
  let re = globs.get(pattern)
  if (!re) {
    const body = pattern
      .split('*')
      .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')
    re = new RegExp(`^${body}$`, 'is')
    globs.set(pattern, re)
  }
  return re
}

/** Glob patterns for secret conf keys: '*' matches any run of characters; matched case-insensitively against the whole key. */
export function isSecretKey(key: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => globRegExp(p).test(key))
}

/** A copy of conf with the values of secret keys replaced by '***' (same key order). */
export function redactConf(
  conf: Record<string, string>,
  patterns: readonly string[],
): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(conf))
    Object.defineProperty(out, key, {
      value: isSecretKey(key, patterns) ? '***' : value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  return out
}
