/**
 * Secret redaction: conf keys matching a glob of DEFAULT_SECRET_PATTERNS (or the caller's
 * list) are shown as `***` by redactConf, so a job's view never echoes a password.
 */

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
