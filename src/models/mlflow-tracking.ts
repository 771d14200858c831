/**
 * MLflow as the tracking server and model registry of record: each succeeded training
 * job becomes one MLflow run, in one experiment per tenant (named after the tenant), and
 * its model one version of the registered model `<tenant>.<modelName>` — a tenant's
 * names can never meet another's (tenant ids have no dot).
 *
 *   experiment <tenant>            get-by-name, else create (tag sparkgate.tenant)
 *     run <job name>               found by tag sparkgate.job_id, else created with the tags
 *       params, metrics            log-batch; metric timestamps are the job's end, step 0,
 *                                  so a resumed run logs the same rows again (MLflow keeps one)
 *       sparkgate/spec.json,       PUT through the server's artifact proxy (replaces)
 *       sparkgate/metrics.json
 *       plots/<name>.png           the run's figures (metrics.json's `plots`): the UI shows them
 *       → FINISHED                 a run found FINISHED is not logged again
 *   registered model <tenant>.<modelName>
 *     version (source: the PipelineModel's hdfs:// URI, run_id)
 *                                  searched by run_id first: one version per run
 *   Redis P:mlflow-job:<jobId>     the ids, written last: the job's result shows them, and
 *                                  the repair pass retries every succeeded job without it
 *
 * Each step finds before it creates, so a crash or a repeat anywhere resumes where it
 * stopped; a lease per job keeps two replicas from creating the same run at once.
 */
import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import { Type, type Static } from 'typebox'
import {
  MlflowError,
  quote,
  type Metric,
  type MlflowClient,
  type MlflowTag,
  type Run,
} from '../mlflow/mlflow-client.js'
import { RedisKeys } from '../redis/keys.js'
import { streamMinId } from '../redis/paging.js'
import { RedisScripts } from '../redis/scripts.js'
import { eventEnvelope } from '../schemas/events.js'
import { plotsOf } from '../schemas/plots.js'
import {
  versionRecord,
  type ModelVersion,
  type RunFiles,
  type TrainedRun,
  type TrainedSpec,
} from './model-version.js'

export const MlflowRunSchema = Type.Object(
  {
    experimentId: Type.String(),
    experimentName: Type.String({ description: "The tenant's experiment (named after it)." }),
    runId: Type.String(),
    registeredModel: Type.String({ description: '`<tenant>.<modelName>`' }),
    modelVersion: Type.Integer({ minimum: 1 }),
  },
  { description: 'Where the run was tracked in MLflow (SPARKGATE_MLFLOW_URL).' },
)
export type MlflowRun = Static<typeof MlflowRunSchema>

export const TAG = {
  jobId: 'sparkgate.job_id',
  tenant: 'sparkgate.tenant',
  dataset: 'sparkgate.dataset',
  modelName: 'sparkgate.model_name',
} as const

/** MLflow's limits: a param value of 6000 characters, keys of 250 from a small alphabet. */
const MAX_VALUE = 6000
const key = (name: string) => name.replace(/[^A-Za-z0-9_\-. /]/g, '_').slice(0, 250)
const text = (value: unknown) => {
  const s = typeof value === 'string' ? value : JSON.stringify(value)
  return s.length > MAX_VALUE ? `${s.slice(0, MAX_VALUE - 1)}…` : s
}

/**
 * The registered model name of a tenant's model: tenant ids have no dot, so it is unique.
 * MLflow refuses ':' and '/' in a name, which a model named after its job may hold: they
 * are written %3A and %2F ('%' is in no model name, so the mapping is one to one).
 */
export const registeredModelName = (tenant: string, modelName: string) =>
  `${tenant}.${modelName.replaceAll(':', '%3A').replaceAll('/', '%2F')}`

/** The model name of a tenant's registered model (registeredModelName undone). */
export const modelNameOf = (tenant: string, registered: string) =>
  registered
    .slice(tenant.length + 1)
    .replaceAll('%3A', ':')
    .replaceAll('%2F', '/')

export const datasetOf = (t: TrainedSpec) =>
  typeof t.dataset === 'string' ? t.dataset : t.dataset.uri

type Json = Record<string, unknown>
const obj = (v: unknown): Json =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {}
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

/**
 * What a run logs, from the spec and metrics.json: params (algorithm and its params,
 * split, encoding, the missing policy applied, …) and metrics (held-out, cross-validation
 * best mean and std, k-fold means, row counts), every metric at `timestamp`, step 0.
 */
export function runContent(
  spec: TrainedSpec,
  result: Json,
  timestamp: number,
): { params: MlflowTag[]; metrics: Metric[] } {
  const params: Record<string, unknown> = {
    algorithm: spec.algorithm,
    task: result['task'] ?? spec.task,
    dataset: datasetOf(spec),
    label: spec.label,
    features: result['features'] ?? spec.features,
    'split.test': spec.split?.test ?? 0.2,
    'split.seed': spec.split?.seed ?? 42,
  }
  for (const [name, value] of Object.entries(spec.params ?? {})) params[`param.${name}`] = value
  const pre = obj(result['preprocessing'])
  const missing = { ...obj(spec.missing), ...obj(pre['missing']) }
  for (const [name, value] of Object.entries(missing)) params[`missing.${name}`] = value
  for (const [column, how] of Object.entries(obj(pre['encoding'])))
    params[`encoding.${column}`] = how
  params['standardize'] = pre['standardize'] ?? spec.standardize
  params['classWeights'] = spec.classWeights
  const cv = obj(result['crossValidation'])
  if (spec.crossValidation) {
    params['crossValidation.folds'] = cv['folds'] ?? spec.crossValidation.folds
    params['crossValidation.metric'] = cv['metric'] ?? spec.crossValidation.metric
    params['crossValidation.grid'] = spec.crossValidation.grid
  }
  if (spec.evaluation) params['evaluation.folds'] = spec.evaluation.folds

  const metrics: Record<string, unknown> = { ...obj(result['metrics']) }
  const best = obj(cv['best'])
  if (typeof cv['metric'] === 'string') {
    metrics[`cv.${cv['metric']}.mean`] = best['mean']
    metrics[`cv.${cv['metric']}.std`] = best['std']
  }
  for (const [name, m] of Object.entries(obj(obj(result['evaluation'])['metrics']))) {
    metrics[`kfold.${name}.mean`] = obj(m)['mean']
    metrics[`kfold.${name}.std`] = obj(m)['std']
  }
  for (const [name, n] of Object.entries(obj(result['rows']))) metrics[`rows.${name}`] = n
  return {
    params: Object.entries(params)
      .filter(([, v]) => v !== undefined && v !== null)
      .map(([k, v]) => ({ key: key(k), value: text(v) })),
    metrics: Object.entries(metrics)
      .filter((e): e is [string, number] => finite(e[1]))
      .map(([k, value]) => ({ key: key(k), value, timestamp, step: 0 })),
  }
}

export class MlflowTracking {
  private readonly keys: RedisKeys
  private readonly scripts: RedisScripts

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly client: MlflowClient,
    private readonly runs: RunFiles,
    /** how long the tenant's event stream keeps an event (0: forever) */
    private readonly eventRetentionMs = 7 * 86_400_000,
    /** how long one process may hold a job's lease */
    private readonly leaseMs = 120_000,
  ) {
    this.keys = new RedisKeys(prefix)
    this.scripts = new RedisScripts(redis)
  }

  /** The MLflow ids a job's run got, once tracked. */
  async runOf(jobId: string): Promise<MlflowRun | undefined> {
    const raw = await this.redis.get(this.keys.mlflowOfJob(jobId))
    return raw === null ? undefined : (JSON.parse(raw) as MlflowRun)
  }

  /** Of these job ids, the ones not tracked yet. */
  async untracked(jobIds: string[]): Promise<string[]> {
    if (jobIds.length === 0) return []
    const done = await this.redis.mget(jobIds.map((id) => this.keys.mlflowOfJob(id)))
    return jobIds.filter((_, i) => done[i] === null)
  }

  /**
   * Logs a succeeded run and registers its model, once (again: the recorded ids). undefined
   * when there is nothing to log yet (no metrics.json) or another process holds the lease.
   */
  async track(run: TrainedRun): Promise<MlflowRun | undefined> {
    const known = await this.runOf(run.jobId)
    if (known) return known
    const lease = this.keys.mlflowLock(run.jobId)
    const holder = randomUUID()
    if ((await this.redis.set(lease, holder, 'PX', this.leaseMs, 'NX')) !== 'OK') return undefined
    try {
      const result = await this.runs.metrics(run)
      if (!result) return undefined
      const tracked = await this.log(run, result)
      await this.record(run, result, tracked)
      return tracked
    } finally {
      // only our own lease (a slow run may have outlived it); a lost race costs one retry
      if ((await this.redis.get(lease)) === holder) await this.redis.del(lease)
    }
  }

  /**
   * The ids in Redis, written last, and — once per job, in the same step — the version's
   * `model.version.registered` event with MLflow's number: the registry of record.
   */
  private async record(run: TrainedRun, result: Json, tracked: MlflowRun) {
    const version: ModelVersion = {
      ...versionRecord(run, result, this.runs.modelUri(run), tracked.modelVersion),
      runId: tracked.runId,
      dataset: datasetOf(run.spec),
    }
    await this.scripts.run(
      'record-mlflow-run',
      [this.keys.mlflowOfJob(run.jobId), this.keys.of(run.tenant).events()],
      [
        JSON.stringify(tracked),
        JSON.stringify(
          eventEnvelope(run.tenant, 'dev.sparkgate.model.version.registered', version.name),
        ),
        JSON.stringify(version),
        streamMinId(this.eventRetentionMs),
      ],
    )
  }

  private async log(run: TrainedRun, result: Json): Promise<MlflowRun> {
    const t = run.spec
    const experimentId = await this.experiment(run.tenant)
    const ended = Date.parse(run.finishedAt ?? '') || Date.now()
    const tags: MlflowTag[] = [
      { key: TAG.jobId, value: run.jobId },
      { key: TAG.tenant, value: run.tenant },
      { key: TAG.dataset, value: datasetOf(t) },
      { key: TAG.modelName, value: t.modelName ?? run.jobName },
    ]
    const mlflowRun =
      (
        await this.client.searchRuns(experimentId, `tags.\`${TAG.jobId}\` = ${quote(run.jobId)}`, 1)
      )[0] ??
      (await this.client.createRun(experimentId, { name: run.jobName, startTime: ended, tags }))
    if (mlflowRun.info.status !== 'FINISHED') await this.fill(mlflowRun, run, result, ended)

    const name = registeredModelName(run.tenant, t.modelName ?? run.jobName)
    const version = await this.version(name, mlflowRun.info.run_id, run)
    return {
      experimentId,
      experimentName: run.tenant,
      runId: mlflowRun.info.run_id,
      registeredModel: name,
      modelVersion: Number(version),
    }
  }

  /** Params, metrics, artifacts, then FINISHED: a run left unfinished is filled again. */
  private async fill(mlflowRun: Run, run: TrainedRun, result: Json, ended: number) {
    const runId = mlflowRun.info.run_id
    // a resumed run: what it already has is not logged again (a metric would get a second
    // row in its history)
    const has = (list?: { key: string }[]) => new Set(list?.map((e) => e.key))
    const [params, metrics] = [has(mlflowRun.data.params), has(mlflowRun.data.metrics)]
    const content = runContent(run.spec, result, ended)
    await this.client.logBatch(runId, {
      params: content.params.filter((p) => !params.has(p.key)),
      metrics: content.metrics.filter((m) => !metrics.has(m.key)),
    })
    // a store the server does not proxy (Azure ML's azureml://) gets no artifacts from here
    if (mlflowRun.info.artifact_uri.startsWith('mlflow-artifacts:')) {
      const files = { 'spec.json': run.spec, 'metrics.json': result }
      for (const [file, content] of Object.entries(files))
        await this.client.uploadArtifact(
          mlflowRun.info,
          `sparkgate/${file}`,
          JSON.stringify(content, null, 2),
        )
      for (const { name } of plotsOf(result)) {
        const png = await this.runs.plot(run, name)
        if (png)
          await this.client.uploadArtifact(mlflowRun.info, `plots/${name}.png`, png, 'image/png')
      }
    }
    await this.client.updateRun(runId, 'FINISHED', ended)
  }

  /** The tenant's experiment: found by name, else created (a concurrent create: found). */
  private async experiment(tenant: string): Promise<string> {
    const found = await this.client.getExperimentByName(tenant)
    if (found) {
      if (found.lifecycle_stage === 'deleted')
        await this.client.restoreExperiment(found.experiment_id)
      return found.experiment_id
    }
    try {
      return await this.client.createExperiment(tenant, [{ key: TAG.tenant, value: tenant }])
    } catch (error) {
      if (!(error instanceof MlflowError && error.kind === 'already_exists')) throw error
      const raced = await this.client.getExperimentByName(tenant)
      if (!raced) throw error
      return raced.experiment_id
    }
  }

  /** The version of `name` made from the run: found by run_id, else created. */
  private async version(name: string, runId: string, run: TrainedRun): Promise<string> {
    const existing = (await this.client.searchModelVersions(`run_id = ${quote(runId)}`)).find(
      (v) => v.name === name,
    )
    if (existing) return existing.version
    if (!(await this.client.getRegisteredModel(name))) {
      try {
        await this.client.createRegisteredModel(name, [{ key: TAG.tenant, value: run.tenant }])
      } catch (error) {
        if (!(error instanceof MlflowError && error.kind === 'already_exists')) throw error
      }
    }
    const created = await this.client.createModelVersion({
      name,
      source: this.runs.modelUri(run),
      runId,
      tags: [
        { key: TAG.jobId, value: run.jobId },
        { key: TAG.tenant, value: run.tenant },
      ],
    })
    return created.version
  }
}
