/**
 * The configured backends, by name, from SPARKGATE_BACKENDS: a JSON array of named
 * backends (any number, any mix of registered kinds), or `auto` — what each kind's
 * `auto()` adds (Livy from SPARKGATE_LIVY_URL; local spark-submit when a Spark home is
 * known). Entry checks and their messages come from each kind's entry schema.
 */
import { Value } from 'typebox/value'
import type { Backends, ConfiguredBackend } from '../domain/ports/spark-backend.js'
import { BackendConfigError, type BackendEntry, type BackendKind } from './backend-kind.js'
import { BACKEND_KINDS } from './registry.js'

type AnyKind = BackendKind<BackendEntry, Record<string, unknown>>
const KINDS = new Map<string, AnyKind>(BACKEND_KINDS.map((k) => [k.kind, k as unknown as AnyKind]))

/** The SPARKGATE_* variables of every kind, for the one config schema. */
type UnionToIntersection<U> = (U extends unknown ? (x: U) => void : never) extends (
  x: infer I,
) => void
  ? I
  : never
export const BACKEND_SETTINGS = Object.assign(
  {},
  ...BACKEND_KINDS.map((k) => k.settings),
) as UnionToIntersection<(typeof BACKEND_KINDS)[number]['settings']>

/** SPARKGATE_BACKENDS parsed; undefined for auto. Throws on bad JSON. */
function parseBackends(raw: string): unknown {
  return raw === 'auto' ? undefined : (JSON.parse(raw) as unknown)
}

/** Every problem of SPARKGATE_BACKENDS, each naming the entry and the field. */
export function backendProblems(raw: string): string[] {
  let list: unknown
  try {
    list = parseBackends(raw)
  } catch (error) {
    return [`SPARKGATE_BACKENDS: not JSON (${(error as Error).message})`]
  }
  if (list === undefined) return []
  if (!Array.isArray(list) || list.length === 0)
    return ['SPARKGATE_BACKENDS: must be "auto" or a non-empty JSON array']
  const problems: string[] = []
  const names = new Set<string>()
  list.forEach((entry: unknown, i) => {
    const at = `SPARKGATE_BACKENDS[${i}]`
    const kindName = (entry as { kind?: unknown } | null)?.kind
    const kind = typeof kindName === 'string' ? KINDS.get(kindName) : undefined
    if (!kind) {
      problems.push(
        `${at}.kind: must be one of ${[...KINDS.keys()].join(', ')} — ${[...KINDS.values()].map((k) => k.summary).join(' | ')}`,
      )
      return
    }
    if (!Value.Check(kind.entry, entry)) {
      for (const e of Value.Errors(kind.entry, entry)) {
        const field = e.instancePath.replace(/^\//, '').replace(/\//g, '.')
        problems.push(
          `${at}${field ? `.${field}` : ''}: ${e.message} (a ${kind.kind} entry is ${kind.summary})`,
        )
      }
      return
    }
    const name = (entry as BackendEntry).name
    if (names.has(name)) problems.push(`${at}: duplicate name ${name}`)
    names.add(name)
  })
  return problems
}

/**
 * Creates every configured backend. `settings` is the validated config (each kind reads
 * its own variables). Throws BackendConfigError with every problem found.
 */
export function createBackends(
  raw: string,
  defaultName: string,
  settings: Record<string, unknown>,
): Backends {
  const list =
    (parseBackends(raw) as BackendEntry[] | undefined) ??
    [...KINDS.values()].flatMap((k) => k.auto?.(settings) ?? [])
  const byName = new Map<string, ConfiguredBackend>()
  const problems: string[] = []
  for (const entry of list) {
    try {
      byName.set(entry.name, KINDS.get(entry.kind)!.create(entry, settings))
    } catch (error) {
      if (!(error instanceof BackendConfigError)) throw error
      problems.push(`SPARKGATE_BACKENDS: ${error.message}`)
    }
  }
  if (problems.length === 0 && !byName.has(defaultName))
    problems.push(
      `SPARKGATE_DEFAULT_BACKEND: ${defaultName} is not a configured backend (configured: ${[...byName.keys()].join(', ')})`,
    )
  if (problems.length > 0) throw new BackendConfigError(problems.join('\n  '))
  return { byName, defaultName }
}
