/** The registry of record's parts, for tests that look behind the port. */
import type { App } from '../../src/app.js'
import { MlflowModels } from '../../src/models/mlflow-models.js'
import type { MlflowTracking } from '../../src/models/mlflow-tracking.js'
import { RedisModels } from '../../src/models/redis-models.js'
import type { RedisVersions } from '../../src/models/redis-versions.js'

/** MLflow tracking of the gateway's registry; null with tracking off. */
export function mlflowOf(app: App): MlflowTracking | null {
  return app.models instanceof MlflowModels ? app.models.tracking : null
}

/** Sparkgate's own versions in Redis (with tracking on too: what each run trained). */
export function versionsOf(app: App): RedisVersions {
  if (app.models instanceof MlflowModels || app.models instanceof RedisModels)
    return app.models.versions
  throw new Error('unknown model registry')
}
