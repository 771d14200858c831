/**
 * What a job leaves when it succeeds, through its kind: the step before a job is marked
 * succeeded (a model recorded, an output registered), a repair pass for steps a crash or a
 * fault left out, the outcome a forgotten batch's own output shows, and its result and
 * output file for the API. No write happens on a read.
 */
import type { Readable } from 'node:stream'
import { errors } from '../errors.js'
import { inScope, type Scope } from '../tenancy/access.js'
import type { JobKinds, KindOf } from './job-kinds.js'
import type { Job } from './job-schema.js'
import type { JobStore } from './job-store.js'
import type { PlotList } from '../schemas/plots.js'
import type { OutputFile } from './ports/job-kind.js'

/** A fault the next pass may not see: stop the pass rather than hit every job with it. */
const transient = (error: unknown) => (error as { transient?: boolean }).transient === true

export class JobResults {
  constructor(
    private readonly store: JobStore,
    private readonly kinds: JobKinds,
  ) {}

  /**
   * The kind's step before the job is marked succeeded; undefined when its kind has none.
   * A fault throws (the tracker logs it and marks the job succeeded all the same; the
   * repair pass does the step later).
   */
  async beforeSucceeded(job: Job): Promise<unknown> {
    const of = this.kinds.of(job)
    return of?.kind.beforeSucceeded?.(job, of.spec)
  }

  /**
   * What a job wrote tells its outcome when the backend forgot its batch (Livy's retention
   * passed while no tracker ran, or Livy restarted without recovery). undefined: nothing
   * to tell by.
   */
  async outcome(job: Job): Promise<'succeeded' | undefined> {
    const of = this.kinds.of(job)
    return of?.kind.outcome?.(job, of.spec)
  }

  /**
   * Does the success steps that are not done (a crash, an HDFS or MLflow fault between a
   * job's end and its step): the newest `max` succeeded jobs are checked. A transient
   * fault ends the pass; another one skips that job, and the first such is thrown once the
   * others are done (the tracker logs it).
   */
  async repair(max = 500): Promise<number> {
    const recent = await this.store.idsInState('succeeded', max, true)
    // what each kind's step still lacks among them (a registry answers for any id: each
    // kind's answer counts only for its own jobs)
    const pending = new Map<string, Set<string>>()
    for (const kind of this.kinds.all())
      pending.set(kind.name, new Set((await kind.unfinished?.(recent)) ?? []))
    const ids = new Set([...pending.values()].flatMap((set) => [...set]))
    let repaired = 0
    let failed: Error | undefined
    for (const job of await this.store.getMany([...ids])) {
      const of = this.kinds.of(job)
      if (!of || !pending.get(of.kind.name)?.has(job.id)) continue
      try {
        const done = await of.kind.beforeSucceeded?.(job, of.spec)
        if (done !== undefined && done !== false) repaired++
      } catch (error) {
        if (transient(error)) throw error
        failed ??= error instanceof Error ? error : new Error(String(error))
      }
    }
    if (failed) throw failed
    return repaired
  }

  /** The result of a succeeded job of a kind that has one (a training's metrics, …). */
  async result(scope: Scope, id: string): Promise<Record<string, unknown>> {
    const { job, kind, spec } = await this.succeeded(scope, id, 'result')
    return kind.result!(job, spec)
  }

  /** The one file a succeeded job of a kind that writes one (scoring) wrote, and its bytes. */
  async output(
    scope: Scope,
    id: string,
  ): Promise<OutputFile & { jobId: string; open: () => Promise<Readable> }> {
    const { job, kind, spec } = await this.succeeded(scope, id, 'output')
    const file = await kind.output!(job, spec)
    return { ...file, jobId: job.id, open: () => kind.open!(file.uri) }
  }

  /** The figures a succeeded training or scoring job's run drew, each with where it is served. */
  async plots(scope: Scope, id: string): Promise<PlotList> {
    const { job, kind, spec } = await this.succeeded(scope, id, 'result')
    const plots = (await kind.plots?.(job, spec)) ?? []
    return {
      jobId: job.id,
      plots: plots.map((p) => ({
        ...p,
        contentType: 'image/png' as const,
        href: `/v1/jobs/${job.id}/result/plots/${p.name}`,
      })),
    }
  }

  /** One of those figures as PNG bytes (404 for a name the run's result does not list). */
  async plot(scope: Scope, id: string, name: string): Promise<{ jobId: string; png: Buffer }> {
    const { job, kind, spec } = await this.succeeded(scope, id, 'result')
    // the list (what the run's result says it drew) and the file, read side by side
    const [listed = [], file] = await Promise.all([
      kind.plots?.(job, spec),
      kind.plot?.(job, spec, name),
    ])
    const png = listed.some((p) => p.name === name) ? file : undefined
    if (!png)
      throw errors.plotNotFound(
        job.id,
        name,
        listed.map((p) => p.name),
      )
    return { jobId: job.id, png }
  }

  /**
   * A job of the scope that succeeded, whose kind has `what` (404: none; 409: a kind
   * without it, or not succeeded yet).
   */
  private async succeeded(
    scope: Scope,
    id: string,
    what: 'result' | 'output',
  ): Promise<KindOf & { job: Job }> {
    const job = await this.store.get(id)
    if (!job || !inScope(scope, job.tenant)) throw errors.jobNotFound(id)
    const of = this.kinds.of(job)
    if (!of?.kind.result) throw errors.notTraining(job.id)
    if (job.state !== 'succeeded') throw errors.jobNotSucceeded(job.id, job.state)
    if (what === 'output' && !of.kind.output) throw errors.notScoring(job.id)
    return { ...of, job }
  }
}
