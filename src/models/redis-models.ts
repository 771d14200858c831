/**
 * The registry of record with MLflow tracking off: Sparkgate's own versions in Redis, in
 * the view's shape — no run and no aliases (an alias cannot be set, a version not
 * deleted: both need MLflow).
 */
import { errors } from '../errors.js'
import { parseModelRef, type ResolvedModel } from './model-ref.js'
import {
  RESERVED_ALIAS,
  type ModelRegistry,
  type ModelSummary,
  type ModelView,
  type RecordedRun,
} from './model-registry.js'
import type { ModelVersion, TrainedRun } from './model-version.js'
import type { RedisVersions } from './redis-versions.js'

/** A Redis registry version in the view's shape: no run, no alias. */
const fromRegistry = (v: ModelVersion): ModelVersion => ({
  ...v,
  runId: null,
  dataset: v.datasetId,
  aliases: [],
})

export class RedisModels implements ModelRegistry {
  readonly kind = 'redis' as const

  constructor(readonly versions: RedisVersions) {}

  record(run: TrainedRun) {
    return this.versions.register(run)
  }

  unrecorded(jobIds: string[]) {
    return this.versions.unregistered(jobIds)
  }

  async recordOf(jobId: string): Promise<RecordedRun> {
    return { modelVersion: (await this.versions.versionOf(jobId)) ?? null, mlflow: null }
  }

  async list(tenant: string): Promise<ModelSummary[]> {
    return (await this.versions.list(tenant)).map((m) => ({
      ...m,
      latest: fromRegistry(m.latest),
      aliases: {},
    }))
  }

  async get(tenant: string, name: string): Promise<ModelView> {
    const versions = await this.versions.versions(tenant, name)
    if (versions.length === 0) throw errors.modelNotFound(name)
    return { name, versions: versions.map(fromRegistry), aliases: {} }
  }

  setAlias(_tenant: string, _name: string, alias: string): Promise<ModelView> {
    return Promise.reject(this.noAliases(alias))
  }

  deleteAlias(_tenant: string, _name: string, alias: string): Promise<void> {
    return Promise.reject(this.noAliases(alias))
  }

  deleteVersion(): Promise<void> {
    return Promise.reject(errors.versionDeleteNeedsMlflow())
  }

  /** `name` (its newest version) or `name/<version>`; an alias is refused. */
  async resolve(tenant: string, ref: string, field: string): Promise<ResolvedModel> {
    const { name, version, alias } = parseModelRef(ref)
    if (alias !== undefined)
      throw errors.validation(
        field,
        'alias',
        `names the alias @${alias}, but MLflow tracking is off (SPARKGATE_MLFLOW_URL=none); name ${name} or ${name}/<version>`,
      )
    const versions = await this.versions.versions(tenant, name)
    const found =
      version === undefined ? versions.at(-1) : versions.find((v) => v.version === version)
    if (!found) throw errors.modelNotFound(ref)
    return { name, version: found.version, uri: found.modelUri }
  }

  /** A reserved alias name is refused as such; any other needs MLflow. */
  private noAliases(alias: string) {
    return RESERVED_ALIAS.test(alias) ? errors.aliasReserved(alias) : errors.aliasesNeedMlflow()
  }
}
