/**
 * The registry of record, chosen once at boot: MLflow's with tracking on (an MLflow client
 * configured), Sparkgate's own in Redis with SPARKGATE_MLFLOW_URL=none.
 */
import type { Redis } from 'ioredis'
import type { MlflowClient } from '../mlflow/mlflow-client.js'
import { MlflowModels } from './mlflow-models.js'
import { MlflowTracking } from './mlflow-tracking.js'
import type { ModelRegistry } from './model-registry.js'
import type { RunFiles } from './model-version.js'
import { RedisModels } from './redis-models.js'
import { RedisVersions } from './redis-versions.js'

export interface ModelRegistryOptions {
  redis: Redis
  prefix: string
  /** what training runs wrote (metrics.json, the model) */
  runs: RunFiles
  /** whether a model URI lies in the tenant's own area */
  inArea: (tenant: string, uri: string) => boolean
  /** how long the tenant's event stream keeps an event (0: forever) */
  eventRetentionMs: number
  /** the MLflow client; undefined with tracking off */
  mlflow?: MlflowClient
}

export function createModelRegistry(o: ModelRegistryOptions): ModelRegistry {
  // the registry of record emits model.version.registered: MLflow's when tracking is on
  const versions = new RedisVersions(o.redis, o.prefix, o.runs, o.eventRetentionMs, !o.mlflow)
  if (!o.mlflow) return new RedisModels(versions)
  const tracking = new MlflowTracking(o.redis, o.prefix, o.mlflow, o.runs, o.eventRetentionMs)
  return new MlflowModels(o.mlflow, tracking, versions, o.inArea)
}
