/**
 * The job kinds of a gateway, bound to the platform at boot: which kind a job is, by the
 * one spec field it carries. The core asks this, never a kind by name.
 */
import { errors } from '../errors.js'
import type { Job, JobSpec } from './job-schema.js'
import type { JobKind, JobKindDefinition, KindContext } from './ports/job-kind.js'

/** A job's kind and its kind's part of the spec. */
export interface KindOf {
  kind: JobKind
  spec: unknown
}

export class JobKinds {
  private readonly byName: Map<string, JobKind>

  constructor(
    readonly definitions: readonly JobKindDefinition[],
    context: KindContext,
  ) {
    this.byName = new Map(definitions.map((d) => [d.name, d.create(context)]))
  }

  /** Every kind, bound to the platform, in the registry's order. */
  all(): JobKind[] {
    return [...this.byName.values()]
  }

  /** The kind a request names: exactly one kind's field (a 400 otherwise). */
  ofRequest(spec: JobSpec): KindOf {
    const named = [...this.byName.values()].filter((k) => spec[k.name] !== undefined)
    if (named.length !== 1)
      throw errors.validation(
        'body',
        'oneOf',
        `needs exactly one of ${this.list([...this.byName.keys()])}`,
      )
    return { kind: named[0]!, spec: spec[named[0]!.name] }
  }

  /** The kind of a recorded job; undefined for a kind this gateway does not have. */
  of(job: Pick<Job, 'spec'>): KindOf | undefined {
    for (const kind of this.byName.values())
      if (job.spec[kind.name] !== undefined) return { kind, spec: job.spec[kind.name] }
    return undefined
  }

  /**
   * The reason a failed job gave in its own output, through its kind (undefined: its kind
   * reads none, or it wrote none); a fault throws, and the caller falls back to the log.
   */
  async reportedError(job: Job): Promise<string | undefined> {
    const of = this.of(job)
    return of?.kind.reportedError?.(job, of.spec)
  }

  private list(names: string[]) {
    return names.length > 1 ? `${names.slice(0, -1).join(', ')} or ${names.at(-1)}` : names[0]!
  }
}
