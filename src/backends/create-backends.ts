/**
 * The configured backends, by name, from SPARKGATE_BACKENDS: a JSON array of named
 * backends (any number, any mix of kinds), or `auto` — `livy` from SPARKGATE_LIVY_URL, plus
 * `local` (spark-submit) when a Spark home is known (SPARKGATE_SPARK_HOME or SPARK_HOME).
 */
import { ConfigError, parseBackends, type BackendConfig, type Config } from '../config.js'
import { LivyBackend } from './livy/livy-backend.js'
import { LocalBackend } from './local/local-backend.js'
import type { SparkBackend } from './spark-backend.js'
import { staticTokenCredential, SynapseBackend } from './synapse/synapse-backend.js'

export interface ConfiguredBackend {
  backend: SparkBackend
  /** live batches allowed at once */
  maxLive: number
}

function sparkHome(config: Config): string | undefined {
  if (config.SPARKGATE_SPARK_HOME !== 'auto') return config.SPARKGATE_SPARK_HOME
  return process.env['SPARK_HOME'] || undefined
}

/** The backend list `auto` stands for. */
export function autoBackends(config: Config): BackendConfig[] {
  const list: BackendConfig[] = [
    {
      name: 'livy',
      kind: 'livy',
      url: config.SPARKGATE_LIVY_URL,
      maxLive: config.SPARKGATE_LIVY_MAX_LIVE,
    },
  ]
  const home = sparkHome(config)
  if (home) list.push({ name: 'local', kind: 'local', sparkHome: home })
  return list
}

export function createBackends(config: Config): Map<string, ConfiguredBackend> {
  const list = parseBackends(config.SPARKGATE_BACKENDS) ?? autoBackends(config)
  const out = new Map<string, ConfiguredBackend>()
  for (const entry of list) out.set(entry.name, create(entry, config))
  if (!out.has(config.SPARKGATE_DEFAULT_BACKEND)) {
    throw new ConfigError([
      `SPARKGATE_DEFAULT_BACKEND: ${config.SPARKGATE_DEFAULT_BACKEND} is not a configured backend (configured: ${[...out.keys()].join(', ')})`,
    ])
  }
  return out
}

function create(entry: BackendConfig, config: Config): ConfiguredBackend {
  switch (entry.kind) {
    case 'livy':
      return {
        backend: new LivyBackend({ name: entry.name, url: entry.url }),
        maxLive: entry.maxLive ?? config.SPARKGATE_LIVY_MAX_LIVE,
      }
    case 'local': {
      const home = entry.sparkHome ?? sparkHome(config)
      if (!home)
        throw new ConfigError([
          `SPARKGATE_BACKENDS: local backend ${entry.name} needs sparkHome (or SPARKGATE_SPARK_HOME / SPARK_HOME)`,
        ])
      return {
        backend: new LocalBackend({
          name: entry.name,
          sparkHome: home,
          master: entry.master ?? config.SPARKGATE_LOCAL_MASTER,
          workdir: `${entry.workdir ?? config.SPARKGATE_LOCAL_WORKDIR}`,
        }),
        maxLive: entry.maxLive ?? config.SPARKGATE_LOCAL_MAX_LIVE,
      }
    }
    case 'synapse':
      return {
        backend: new SynapseBackend({
          name: entry.name,
          endpoint: entry.endpoint,
          pool: entry.pool,
          ...(entry.livyApiVersion ? { livyApiVersion: entry.livyApiVersion } : {}),
          ...(entry.caFile ? { caFile: entry.caFile } : {}),
          // a static bearer token when one is given, else DefaultAzureCredential (managed
          // identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, az login, …)
          ...(config.SPARKGATE_SYNAPSE_TOKEN !== 'none'
            ? { credential: staticTokenCredential(config.SPARKGATE_SYNAPSE_TOKEN) }
            : {}),
        }),
        maxLive: entry.maxLive ?? 4,
      }
  }
}
