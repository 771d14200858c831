/**
 * The configured backends, by name. For now one Livy backend, `livy`, from
 * SPARKGATE_LIVY_URL with its cap SPARKGATE_LIVY_MAX_LIVE.
 */
import type { Config } from '../config.js'
import { LivyBackend } from './livy/livy-backend.js'
import type { SparkBackend } from './spark-backend.js'

export interface ConfiguredBackend {
  backend: SparkBackend
  /** live batches allowed at once */
  maxLive: number
}

export function createBackends(config: Config): Map<string, ConfiguredBackend> {
  return new Map([
    [
      'livy',
      {
        backend: new LivyBackend({ name: 'livy', url: config.SPARKGATE_LIVY_URL }),
        maxLive: config.SPARKGATE_LIVY_MAX_LIVE,
      },
    ],
  ])
}
