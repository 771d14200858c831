/**
 * The model registry: every succeeded training job is one version of its model (named by
 * `training.modelName`, else the job name), numbered 1, 2, … per name and tenant, with what is
 * needed to compare runs side by side: metrics, job, dataset, algorithm, params.
 * Registration is idempotent per job (src/redis/lua/register-model-4.lua). With MLflow
 * tracking on, MLflow is the registry of record (its numbers are the ones shown, scored
 * and sent in events); this one keeps what the runs trained for the repair pass.
 */
import type { Redis } from 'ioredis'
import { streamMinId } from '../redis/paging.js'
import { RedisKeys } from '../redis/keys.js'
import { eventEnvelope } from '../schemas/events.js'
import { RedisScripts } from '../redis/scripts.js'
import {
  versionRecord,
  type ModelVersion,
  type RunFiles,
  type TrainedRun,
} from './model-version.js'

export class RedisVersions {
  private readonly keys: RedisKeys
  private readonly scripts: RedisScripts

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly runs: RunFiles,
    /** how long the tenant's event stream keeps an event (0: forever) */
    private readonly eventRetentionMs = 7 * 86_400_000,
    /**
     * whether this is the registry of record, whose registrations are the tenant's
     * `model.version.registered` events (with MLflow tracking on, MLflow is: its versions
     * are the events, see MlflowTracking)
     */
    private readonly ofRecord = true,
  ) {
    this.keys = new RedisKeys(prefix)
    this.scripts = new RedisScripts(redis)
  }

  /** Registers a succeeded run's model (again: a no-op); its version, or undefined without metrics. */
  async register(run: TrainedRun): Promise<number | undefined> {
    const known = await this.versionOf(run.jobId)
    if (known !== undefined) return known
    const result = await this.runs.metrics(run)
    if (!result) return undefined
    const record = versionRecord(run, result, this.runs.modelUri(run), 0)
    const tenant = this.keys.of(run.tenant)
    return this.scripts.run(
      'register-model',
      [
        tenant.models(),
        tenant.model(record.name),
        this.keys.modelOfJob(run.jobId),
        tenant.events(),
      ],
      [
        record.name,
        JSON.stringify(record),
        this.ofRecord
          ? JSON.stringify(
              eventEnvelope(run.tenant, 'dev.sparkgate.model.version.registered', record.name),
            )
          : '',
        streamMinId(this.eventRetentionMs),
      ],
    )
  }

  /** The version a job's model became, if it was registered. */
  async versionOf(jobId: string): Promise<number | undefined> {
    const version = await this.redis.get(this.keys.modelOfJob(jobId))
    return version === null ? undefined : Number(version)
  }

  /** Of these job ids, the ones whose model is not registered. */
  async unregistered(jobIds: string[]): Promise<string[]> {
    if (jobIds.length === 0) return []
    const done = await this.redis.mget(jobIds.map((id) => this.keys.modelOfJob(id)))
    return jobIds.filter((_, i) => done[i] === null)
  }

  /** Every model name of a tenant with its latest version. */
  async list(tenant: string): Promise<{ name: string; versions: number; latest: ModelVersion }[]> {
    const k = this.keys.of(tenant)
    const names = await this.redis.zrangebylex(k.models(), '-', '+')
    const out = []
    for (const name of names) {
      const [count, last] = await Promise.all([
        this.redis.llen(k.model(name)),
        this.redis.lindex(k.model(name), -1),
      ])
      if (last && last !== 'pending')
        out.push({ name, versions: count, latest: JSON.parse(last) as ModelVersion })
    }
    return out
  }

  async versions(tenant: string, name: string): Promise<ModelVersion[]> {
    const raw = await this.redis.lrange(this.keys.of(tenant).model(name), 0, -1)
    return raw.filter((r) => r !== 'pending').map((r) => JSON.parse(r) as ModelVersion)
  }
}
