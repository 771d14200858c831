/**
 * The registry of record with MLflow tracking on: MLflow's model registry. A tenant's
 * models are the registered models `<tenant>.<name>` (the prefix is stripped here and added
 * back on the way in, so one tenant can never name another's), each version joined with
 * its run (metrics, params; the job and dataset from the run's sparkgate.* tags) and its
 * aliases. A succeeded run is recorded in Sparkgate's Redis versions first (what the runs
 * trained, for the repair pass), then logged and registered in MLflow (MlflowTracking).
 */
import { errors } from '../errors.js'
import {
  MlflowError,
  newestVersion,
  quote,
  type MlflowClient,
  type ModelVersion as MlflowVersion,
  type RegisteredModel,
  type Run,
} from '../mlflow/mlflow-client.js'
import { mlflowAsk, mlflowCall } from './mlflow-call.js'
import { TAG, modelNameOf, registeredModelName, type MlflowTracking } from './mlflow-tracking.js'
import { parseModelRef, type ResolvedModel } from './model-ref.js'
import {
  RESERVED_ALIAS,
  type Aliases,
  type ModelRegistry,
  type ModelSummary,
  type ModelView,
  type RecordedRun,
} from './model-registry.js'
import type { ModelVersion, TrainedRun } from './model-version.js'
import type { RedisVersions } from './redis-versions.js'

const aliasesOf = (m: RegisteredModel): Aliases =>
  Object.fromEntries((m.aliases ?? []).map((a) => [a.alias, Number(a.version)]))

const tagsOf = (tags?: { key: string; value: string }[]) =>
  Object.fromEntries((tags ?? []).map((e) => [e.key, e.value]))

/** A param as logged (JSON text for anything not a string) back to its value. */
function paramValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

export class MlflowModels implements ModelRegistry {
  readonly kind = 'mlflow' as const

  constructor(
    private readonly mlflow: MlflowClient,
    /** logs runs and registers their versions in MLflow */
    readonly tracking: MlflowTracking,
    /** Sparkgate's own record of what each run trained (the repair pass's memory) */
    readonly versions: RedisVersions,
    /** whether a model URI lies in the tenant's own area (its training runs) */
    private readonly inArea: (tenant: string, uri: string) => boolean,
  ) {}

  /**
   * Records the run in Redis, then logs and registers it in MLflow; an MLflow fault throws
   * after the Redis record (the repair pass tracks it later).
   */
  async record(run: TrainedRun): Promise<number | undefined> {
    const version = await this.versions.register(run)
    if (version !== undefined) await this.tracking.track(run)
    return version
  }

  async unrecorded(jobIds: string[]): Promise<string[]> {
    const ids = new Set(await this.versions.unregistered(jobIds))
    for (const id of await this.tracking.untracked(jobIds)) ids.add(id)
    return jobIds.filter((id) => ids.has(id))
  }

  async recordOf(jobId: string): Promise<RecordedRun> {
    const mlflow = (await this.tracking.runOf(jobId)) ?? null
    return { modelVersion: mlflow?.modelVersion ?? null, mlflow }
  }

  /**
   * `name` (the newest version made by one of the tenant's runs), `name/<version>` or
   * `name@<alias>`, in MLflow's registered model `<tenant>.<name>`; its numbers can differ
   * from the Redis versions' (a job tracked after a later one, when MLflow was down at its
   * success), so Redis is not asked. A version whose source is not one of the tenant's
   * runs is none of its models.
   */
  async resolve(tenant: string, ref: string): Promise<ResolvedModel> {
    const { name, version, alias } = parseModelRef(ref)
    const mlflow = this.mlflow
    const full = registeredModelName(tenant, name)
    if (alias !== undefined) {
      const found = await mlflowAsk(() => mlflow.getModelVersionByAlias(full, alias))
      if (!found || !this.inArea(tenant, found.source))
        throw errors.modelNotFound(`${name}@${alias}`)
      return { name, version: Number(found.version), uri: found.source, alias }
    }
    const own = (v: MlflowVersion | undefined): v is MlflowVersion =>
      v !== undefined && this.inArea(tenant, v.source)
    const found =
      version !== undefined
        ? await mlflowAsk(() => mlflow.getModelVersion(full, String(version)))
        : newestVersion(
            (
              (await mlflowAsk(() => mlflow.searchAllModelVersions(`name = ${quote(full)}`))) ?? []
            ).filter(own),
          )
    if (!own(found)) throw errors.modelNotFound(ref)
    return { name, version: Number(found.version), uri: found.source }
  }

  /** Every model name of a tenant (sorted) with its number of versions and latest version. */
  async list(tenant: string): Promise<ModelSummary[]> {
    const mlflow = this.mlflow
    const prefix = `${tenant}.`
    const filter = `name LIKE ${quote(`${prefix}%`)}`
    const [models, versions] = await mlflowCall(() =>
      Promise.all([mlflow.searchRegisteredModels(filter), mlflow.searchAllModelVersions(filter)]),
    )
    // LIKE's `_` matches any character: only the tenant's own names
    const latest = models
      .filter((m) => m.name.startsWith(prefix))
      .map((m) => {
        const own = versions.filter((v) => v.name === m.name)
        return { model: m, count: own.length, last: newestVersion(own) }
      })
      .filter((e): e is typeof e & { last: MlflowVersion } => e.last !== undefined)
    const runs = await this.runs(
      tenant,
      latest.map((e) => e.last),
    )
    return latest
      .map(({ model, count, last }) => {
        const aliases = aliasesOf(model)
        return {
          name: modelNameOf(tenant, model.name),
          versions: count,
          latest: this.version(tenant, last, runs, aliases),
          aliases,
        }
      })
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  }

  /** Every version of one model, oldest first, and its aliases. */
  async get(tenant: string, name: string): Promise<ModelView> {
    const mlflow = this.mlflow
    const full = registeredModelName(tenant, name)
    const model = await mlflowCall(() => mlflow.getRegisteredModel(full))
    if (!model) throw errors.modelNotFound(name)
    const found = await mlflowCall(() => mlflow.searchAllModelVersions(`name = ${quote(full)}`))
    const aliases = aliasesOf(model)
    const runs = await this.runs(tenant, found)
    const versions = found
      .sort((a, b) => Number(a.version) - Number(b.version))
      .map((v) => this.version(tenant, v, runs, aliases))
    return { name, versions, aliases }
  }

  /** Points `alias` at a version of the tenant's model (moving it if set); the model after. */
  async setAlias(tenant: string, name: string, alias: string, version: number): Promise<ModelView> {
    const mlflow = this.aliasing(alias)
    const full = registeredModelName(tenant, name)
    if (!(await mlflowCall(() => mlflow.getRegisteredModel(full)))) throw errors.modelNotFound(name)
    try {
      await mlflowCall(() => mlflow.setModelAlias(full, alias, String(version)))
    } catch (error) {
      if (error instanceof MlflowError && error.kind === 'not_found')
        throw errors.modelVersionNotFound(name, version)
      throw error
    }
    return this.get(tenant, name)
  }

  /** Removes an alias of the tenant's model; a 404 when the model or the alias is not there. */
  async deleteAlias(tenant: string, name: string, alias: string): Promise<void> {
    const mlflow = this.aliasing(alias)
    const full = registeredModelName(tenant, name)
    const model = await mlflowCall(() => mlflow.getRegisteredModel(full))
    if (!model) throw errors.modelNotFound(name)
    if (!Object.hasOwn(aliasesOf(model), alias)) throw errors.aliasNotFound(name, alias)
    await mlflowCall(() => mlflow.deleteModelAlias(full, alias))
  }

  /**
   * Deletes a version of the tenant's model from the MLflow registry (the aliases pointing
   * at it go with it; its run, the job and the model's files stay); a 404 when the model
   * or the version is not there. Scoring can no longer name it.
   */
  async deleteVersion(tenant: string, name: string, version: number): Promise<void> {
    const mlflow = this.mlflow
    const full = registeredModelName(tenant, name)
    if (!(await mlflowCall(() => mlflow.getRegisteredModel(full)))) throw errors.modelNotFound(name)
    try {
      await mlflowCall(() => mlflow.deleteModelVersion(full, String(version)))
    } catch (error) {
      // no such version (MLflow's RESOURCE_DOES_NOT_EXIST)
      if (error instanceof MlflowError && error.kind === 'not_found')
        throw errors.modelVersionNotFound(name, version)
      throw error
    }
  }

  /** The MLflow client for an alias change: refused for a reserved name, or with tracking off. */
  private aliasing(alias: string): MlflowClient {
    if (RESERVED_ALIAS.test(alias)) throw errors.aliasReserved(alias)
    return this.mlflow
  }

  /**
   * The runs of these versions, by id: searched in the tenant's experiment, 100 ids a call
   * (where sparkgate logs them); one made elsewhere is read on its own.
   */
  private async runs(tenant: string, versions: MlflowVersion[]): Promise<Map<string, Run>> {
    const mlflow = this.mlflow
    const ids = [...new Set(versions.map((v) => v.run_id).filter((id): id is string => !!id))]
    const out = new Map<string, Run>()
    if (ids.length === 0) return out
    const experiment = await mlflowCall(() => mlflow.getExperimentByName(tenant))
    for (let i = 0; experiment && i < ids.length; i += 100) {
      const filter = `attributes.run_id IN (${ids
        .slice(i, i + 100)
        .map(quote)
        .join(', ')})`
      const found = await mlflowCall(() =>
        mlflow.searchRuns(experiment.experiment_id, filter, 1000),
      )
      for (const run of found) out.set(run.info.run_id, run)
    }
    for (const id of ids.filter((id) => !out.has(id))) {
      const run = await mlflowCall(() => mlflow.getRun(id))
      if (run) out.set(id, run)
    }
    return out
  }

  /** One MLflow version joined with its run: metrics, params, the job and the dataset. */
  private version(tenant: string, v: MlflowVersion, runs: Map<string, Run>, aliases: Aliases) {
    const run = v.run_id ? runs.get(v.run_id) : undefined
    const tags = { ...tagsOf(v.tags), ...tagsOf(run?.data.tags) }
    const params = tagsOf(run?.data.params)
    const dataset = tags[TAG.dataset] ?? null
    const number = Number(v.version)
    const view: ModelVersion = {
      name: modelNameOf(tenant, v.name),
      version: number,
      jobId: tags[TAG.jobId] ?? '',
      // a dataset of the API has an id; one named by URI has none
      datasetId: dataset !== null && !dataset.includes('://') ? dataset : null,
      dataset,
      task: params['task'] ?? '',
      algorithm: params['algorithm'] ?? '',
      params: Object.fromEntries(
        Object.entries(params)
          .filter(([k]) => k.startsWith('param.'))
          .map(([k, value]) => [k.slice('param.'.length), paramValue(value)]),
      ),
      metrics: Object.fromEntries((run?.data.metrics ?? []).map((m) => [m.key, m.value])),
      modelUri: v.source,
      createdAt: new Date(v.creation_timestamp ?? 0).toISOString(),
      runId: v.run_id || null,
      aliases: Object.entries(aliases)
        .filter(([, n]) => n === number)
        .map(([alias]) => alias)
        .sort(),
    }
    return view
  }
}
