/**
 * One answer to "what is up": readiness (/readyz: Redis, WebHDFS and every backend within
 * SPARKGATE_READY_TIMEOUT_MS) and the backends' view (/v1/backends: health, cap, live and
 * waiting jobs). Both probe a backend the same way.
 */
import type { BackendView, DependencyState } from '../schemas/status.js'
import type { JobStore } from './job-store.js'
import type { JobQueue } from './ports/job-queue.js'
import type { Backends } from './ports/spark-backend.js'

/** A dependency the gateway needs, and how to see it answer. */
export interface Probe {
  /** where it is looked for (no credentials) */
  url: string
  check: () => Promise<unknown>
  /** reported, but its being down does not make the gateway unready (Kafka: the event
   * log holds what it has not taken) */
  optional?: boolean
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export class StatusService {
  constructor(
    /** what the gateway itself needs: redis, webhdfs */
    private readonly dependencies: Record<string, Probe>,
    private readonly backends: Backends,
    private readonly timeoutMs: number,
    /** live slots and waiting jobs per backend */
    private readonly jobs: { store: JobStore; queue: JobQueue },
  ) {}

  /** Adds a dependency wired after this service (the Kafka sink). */
  addDependency(name: string, probe: Probe) {
    this.dependencies[name] = probe
  }

  private async probe(probe: Probe, name: string): Promise<DependencyState> {
    try {
      await withTimeout(probe.check(), this.timeoutMs, name)
      return { up: true, url: probe.url }
    } catch (error) {
      return { up: false, url: probe.url, error: (error as Error).message }
    }
  }

  private backendProbe(name: string): Probe {
    const { backend } = this.backends.byName.get(name)!
    return { url: backend.endpoint, check: () => backend.health() }
  }

  /** Every dependency and backend, probed at once; `down` names what did not answer. */
  async readiness(): Promise<{ dependencies: Record<string, DependencyState>; down: string[] }> {
    const probes: [string, Probe][] = [
      ...Object.entries(this.dependencies),
      ...[...this.backends.byName.keys()].map((n): [string, Probe] => [n, this.backendProbe(n)]),
    ]
    const results = await Promise.all(
      probes.map(async ([name, p]): Promise<[string, DependencyState]> => [
        name,
        await this.probe(p, name),
      ]),
    )
    return {
      dependencies: Object.fromEntries(results),
      down: results
        .filter(([name, r]) => !r.up && !this.dependencies[name]?.optional)
        .map(([name]) => name),
    }
  }

  /** Each configured backend with its health, cap, live slots and waiting jobs. */
  async backendViews(): Promise<BackendView[]> {
    return Promise.all(
      [...this.backends.byName].map(async ([name, { backend, maxLive }]) => {
        const [state, live, queued] = await Promise.all([
          this.probe(this.backendProbe(name), name),
          this.jobs.store.liveIds(name).then((ids) => ids.length),
          this.jobs.queue.waiting(name),
        ])
        return {
          name,
          kind: backend.kind,
          endpoint: backend.endpoint,
          auth: backend.auth ?? 'none',
          default: name === this.backends.defaultName,
          maxLive,
          live,
          queued,
          healthy: state.up,
          ...(state.error !== undefined ? { error: state.error } : {}),
        }
      }),
    )
  }
}

export type { BackendView, DependencyState }
