/**
 * The URI rules of a tenant's policy — a pure decision, no I/O.
 *
 * A job may name its own HDFS area (`<defaultFs><root>/…`, or a bare `/path` on the
 * default file system), its area in each other store (a Synapse pool's storage account:
 * `abfss://container@account.dfs.core.windows.net/<root>/tenants/<t>/…`), `dataset://<id>` references, `file:`/`local:` paths under the
 * platform's local folders, and whatever starts with a prefix its admin allowed. Every
 * other URI is refused. Values are checked as written, before anything resolves them, so
 * the rules refuse what different parsers could read differently (Hadoop's Path keeps `?`
 * and `#` in the path and normalises `..`; java.net.URI and WHATWG URL treat them apart):
 * no `.`/`..` or empty segments after percent-decoding, no encoded `/` or `%`, no
 * whitespace, control characters or backslashes, no query outside http(s), and a
 * fragment only as a plain link name (`app.zip#env`).
 */
import type { Policy, PolicyEntry, TenantArea } from './policy.js'

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
  const others = (area.others ?? []).map((uri) => `${uri}/`)
  if (!fs || !root)
    return others.length ? `its own areas ${others.join(', ')}` : 'its own area (not configured)'
  return others.length
    ? `its own areas ${[`${fs.base}${root}/`, ...others].join(', ')}`
    : `its own area ${fs.base}${root}/`
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
  // its area in another store (checked as a prefix, after the same path rules)
  if (normalized !== undefined && qualified === undefined && area.others?.length)
    if (matchesPrefix(normalized, area.others)) return undefined
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
