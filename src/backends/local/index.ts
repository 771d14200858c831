/**
 * The `local` kind: spark-submit of a local Spark
 * (`{name, kind: local, sparkHome?, master?, workdir?, maxLive?}`).
 *
 * Its Spark home, in order: the entry's sparkHome, SPARKGATE_SPARK_HOME, the SPARK_HOME
 * environment variable, or the local stack's own Spark (`<stack>/run/local-spark.json`,
 * written by `npm run stack:up`, with the environment its spark-submit needs) — so with
 * nothing set, `auto` uses the whole local stack, its Spark included.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Type } from 'typebox'
import { BackendConfigError, defineBackendKind, entryFields } from '../backend-kind.js'
import { LocalBackend } from './local-backend.js'

const MASTER = '^local(\\[(\\*|[1-9][0-9]*)\\])?$'
const REPO = fileURLToPath(new URL('../../../', import.meta.url))

interface SparkInstall {
  sparkHome: string
  env?: Record<string, string>
}

/** The local stack's Spark, if `npm run stack:up` installed one. */
function stackSpark(): SparkInstall | undefined {
  const dir = process.env['STACK_DIR'] || join(REPO, '.stack')
  try {
    const found = JSON.parse(readFileSync(join(dir, 'run', 'local-spark.json'), 'utf8')) as {
      sparkHome?: unknown
      env?: Record<string, string>
    }
    if (typeof found.sparkHome !== 'string') return undefined
    return { sparkHome: found.sparkHome, ...(found.env ? { env: found.env } : {}) }
  } catch {
    return undefined
  }
}

function knownSpark(s: { SPARKGATE_SPARK_HOME: string }): SparkInstall | undefined {
  if (s.SPARKGATE_SPARK_HOME !== 'auto') return { sparkHome: s.SPARKGATE_SPARK_HOME }
  if (process.env['SPARK_HOME']) return { sparkHome: process.env['SPARK_HOME'] }
  return stackSpark()
}

export const localKind = defineBackendKind({
  kind: 'local',
  summary: '{name, kind: local, sparkHome?, master?, workdir?, maxLive?}',
  // a local master unpacks archives into SparkFiles' folder, not the working directory
  capabilities: { readsStagedFiles: true, workDirArchives: false },
  settings: {
    SPARKGATE_SPARK_HOME: Type.String({
      default: 'auto',
      description:
        "SPARK_HOME of local backends; auto = the SPARK_HOME environment variable, else the local stack's own Spark (.stack/run/local-spark.json, written by npm run stack:up with the environment its spark-submit needs), so with nothing set, auto includes the local backend.",
    }),
    SPARKGATE_LOCAL_MASTER: Type.String({
      default: 'local[2]',
      pattern: MASTER,
      description: '--master of local backends.',
    }),
    SPARKGATE_LOCAL_WORKDIR: Type.String({
      default: '/tmp/sparkgate-local',
      pattern: '^/',
      description:
        'Folder of local backends: one sub-folder per batch (submission, log, pid, exit code).',
    }),
    SPARKGATE_LOCAL_MAX_LIVE: Type.Integer({
      default: 2,
      minimum: 1,
      maximum: 256,
      description:
        'Cap of concurrent spark-submit jobs of a local backend without its own maxLive.',
    }),
  },
  entry: Type.Object(
    {
      ...entryFields('local'),
      sparkHome: Type.Optional(Type.String({ pattern: '^/' })),
      master: Type.Optional(Type.String({ pattern: MASTER })),
      workdir: Type.Optional(Type.String({ pattern: '^/' })),
    },
    { additionalProperties: false },
  ),
  auto: (s) => (knownSpark(s) ? [{ name: 'local', kind: 'local' as const }] : []),
  create: (entry, s) => {
    const spark = entry.sparkHome ? { sparkHome: entry.sparkHome } : knownSpark(s)
    if (!spark)
      throw new BackendConfigError(
        `local backend ${entry.name} needs sparkHome (or SPARKGATE_SPARK_HOME / SPARK_HOME, or the local stack: npm run stack:up)`,
      )
    return {
      backend: new LocalBackend({
        name: entry.name,
        sparkHome: spark.sparkHome,
        master: entry.master ?? s.SPARKGATE_LOCAL_MASTER,
        workdir: entry.workdir ?? s.SPARKGATE_LOCAL_WORKDIR,
        ...(spark.env ? { env: spark.env } : {}),
      }),
      maxLive: entry.maxLive ?? s.SPARKGATE_LOCAL_MAX_LIVE,
    }
  },
})
