/**
 * The model registry: every succeeded training job is one version of its model (named by
 * `training.modelName`, else the job name), numbered 1, 2, … per name, with what is
 * needed to compare runs side by side: metrics, job, dataset, algorithm, params.
 *
 * Keys (prefix P): P:models — sorted set of names (lex); P:model:<name> — list of version
 * JSON; P:model-job:<jobId> — the version a job became (registration is idempotent).
 */
import type { Redis } from 'ioredis'
import { Type, type Static } from 'typebox'
import type { Job } from '../domain/job-schema.js'
import type { JobStore } from '../domain/job-store.js'
import type { TrainingStager } from './training.js'

export const ModelVersionSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    jobId: Type.String(),
    datasetId: Type.Union([Type.String(), Type.Null()]),
    task: Type.String(),
    algorithm: Type.String(),
    params: Type.Record(Type.String(), Type.Unknown()),
    metrics: Type.Record(Type.String(), Type.Number()),
    modelUri: Type.String({ description: 'The fitted PipelineModel (hdfs://…/model).' }),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'ModelVersion' },
)
export type ModelVersion = Static<typeof ModelVersionSchema>

const REGISTER = `
local done = redis.call('GET', KEYS[3])
if done then return tonumber(done) end
local version = redis.call('RPUSH', KEYS[2], 'pending')
local record = string.gsub(ARGV[2], '"version":0', '"version":' .. version, 1)
redis.call('LSET', KEYS[2], version - 1, record)
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('SET', KEYS[3], version)
return version
`

export class ModelRegistry {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly training: TrainingStager,
  ) {
    redis.defineCommand('sgRegisterModel', { numberOfKeys: 3, lua: REGISTER })
  }

  private key(...parts: string[]) {
    return [this.prefix, ...parts].join(':')
  }

  /** Registers a succeeded training job's model (again: a no-op); returns its version. */
  async register(job: Job): Promise<number | undefined> {
    const t = job.spec.training
    if (!t || job.state !== 'succeeded') return undefined
    const known = await this.redis.get(this.key('model-job', job.id))
    if (known) return Number(known)
    const result = await this.training.metrics(job.id)
    if (!result) return undefined
    const name = t.modelName ?? job.name
    const record: ModelVersion = {
      name,
      version: 0,
      jobId: job.id,
      datasetId: typeof t.dataset === 'string' ? t.dataset : null,
      task: typeof result['task'] === 'string' ? result['task'] : '',
      algorithm: t.algorithm,
      params: t.params ?? {},
      metrics: (result['metrics'] ?? {}) as Record<string, number>,
      modelUri: this.training.modelUri(job.id),
      createdAt: job.finishedAt ?? new Date().toISOString(),
    }
    const version = await (this.redis as unknown as Commands).sgRegisterModel(
      this.key('models'),
      this.key('model', name),
      this.key('model-job', job.id),
      name,
      JSON.stringify(record),
    )
    return Number(version)
  }

  /**
   * Registers the succeeded training jobs that are not yet (a crash between a job's success
   * and its registration): the newest `max` succeeded jobs are checked.
   */
  async sync(jobs: JobStore, max = 500): Promise<void> {
    // only the newest: a GET /v1/models must not read every succeeded job
    const recent = await jobs.idsInState('succeeded', max, true)
    if (recent.length === 0) return
    const done = await this.redis.mget(recent.map((id) => this.key('model-job', id)))
    const missing = recent.filter((_, i) => done[i] === null)
    for (const job of await jobs.getMany(missing)) if (job.spec.training) await this.register(job)
  }

  /** Every model name with its latest version. */
  async list(): Promise<{ name: string; versions: number; latest: ModelVersion }[]> {
    const names = await this.redis.zrangebylex(this.key('models'), '-', '+')
    const out = []
    for (const name of names) {
      const [count, last] = await Promise.all([
        this.redis.llen(this.key('model', name)),
        this.redis.lindex(this.key('model', name), -1),
      ])
      if (last && last !== 'pending')
        out.push({ name, versions: count, latest: JSON.parse(last) as ModelVersion })
    }
    return out
  }

  async versions(name: string): Promise<ModelVersion[]> {
    const raw = await this.redis.lrange(this.key('model', name), 0, -1)
    return raw.filter((r) => r !== 'pending').map((r) => JSON.parse(r) as ModelVersion)
  }
}

interface Commands {
  sgRegisterModel(...args: (string | number)[]): Promise<unknown>
}
