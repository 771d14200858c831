/**
 * A batch's archives and its packed Python environment — pure functions, no I/O.
 *
 *   archives   ["dataset://<id>#deps", "hdfs://…/models.zip"]   --archives, Livy `archives`
 *   pythonEnv  "dataset://<id>"  (a venv-pack / conda-pack tar.gz)
 *       └─► one more archive `<uri>#sparkgate_pyenv`, and the Python of the driver, the
 *           executors and the YARN ApplicationMaster (cluster mode: the driver runs in
 *           it) set to ./sparkgate_pyenv/bin/python
 *
 * YARN unpacks each archive into the working directory of every container under its
 * alias (`#alias`, else the file's name), which is what makes the relative Python path
 * work; a backend that does not (a local master) is refused up front by the job core
 * through the `workDirArchives` capability.
 */
import type { PolicyEntry } from '../../tenancy/policy.js'
import type { BatchSpec } from './spec.js'

/** The folder a pythonEnv unpacks into; a user's archive may not take it. */
export const PYTHON_ENV_ALIAS = 'sparkgate_pyenv'

const PYTHON = `./${PYTHON_ENV_ALIAS}/bin/python`

/** The Spark settings a pythonEnv sets; a user's conf may not set them beside it. */
export const PYTHON_ENV_CONF: Readonly<Record<string, string>> = {
  'spark.pyspark.python': PYTHON,
  'spark.pyspark.driver.python': PYTHON,
  'spark.yarn.appMasterEnv.PYSPARK_PYTHON': PYTHON,
}

/** An archive as written: its URI (or dataset:// reference) and its alias, if any. */
export function splitArchive(value: string): { uri: string; alias?: string } {
  const hash = value.indexOf('#')
  if (hash < 0) return { uri: value }
  return { uri: value.slice(0, hash), alias: value.slice(hash + 1) }
}

const DATASET = /^dataset:\/\//

/**
 * What the policy checks of each archive: a dataset reference without its alias (the
 * reference is resolved, the alias kept), any other URI as written (the URI rules know a
 * `#name` link and keep such a path strictly inside its folder).
 */
export function archiveFields(b: BatchSpec): [string, string][] {
  const fields = (b.archives ?? []).map((value, i): [string, string] => {
    const { uri } = splitArchive(value)
    return [`body.batch.archives.${i}`, DATASET.test(uri) ? uri : value]
  })
  if (b.pythonEnv !== undefined) fields.push(['body.batch.pythonEnv', b.pythonEnv])
  return fields
}

/** The folder an archive unpacks into, when the request tells it (alias, or a URI's file name). */
function linkName(value: string): string | undefined {
  const { uri, alias } = splitArchive(value)
  if (alias !== undefined) return alias
  if (DATASET.test(uri)) return undefined
  return uri.slice(uri.lastIndexOf('/') + 1)
}

/** What the schema cannot say: the pythonEnv's alias and settings are its own. */
export function archiveProblems(b: BatchSpec): PolicyEntry[] {
  const entries: PolicyEntry[] = []
  ;(b.archives ?? []).forEach((value, i) => {
    if (linkName(value) === PYTHON_ENV_ALIAS)
      entries.push({
        field: `body.batch.archives.${i}`,
        rule: 'reserved',
        message: `unpacks into ${PYTHON_ENV_ALIAS}, the folder of the batch's pythonEnv; pick another #alias`,
      })
  })
  if (b.pythonEnv === undefined) return entries
  const set = new Set(Object.keys(PYTHON_ENV_CONF).map((k) => k.toLowerCase()))
  for (const key of Object.keys(b.conf ?? {}))
    if (set.has(key.toLowerCase()))
      entries.push({
        field: `body.batch.conf.${key}`,
        rule: 'python-env',
        message: `is set by the batch's pythonEnv (to ${PYTHON}); leave it out, or leave out pythonEnv`,
      })
  return entries
}

/**
 * The archives and conf of the submission: the user's archives with their URIs resolved
 * (`resolve`: a dataset:// reference → the URI recorded at accept time), the pythonEnv as
 * one more archive, and its Python settings over the user's conf.
 */
export function archiveBatch(
  b: BatchSpec,
  resolve: (value: string) => string,
): { archives?: string[]; conf?: Record<string, string> } {
  const archives = (b.archives ?? []).map((value) => {
    const { uri, alias } = splitArchive(value)
    return alias === undefined ? resolve(uri) : `${resolve(uri)}#${alias}`
  })
  if (b.pythonEnv !== undefined) archives.push(`${resolve(b.pythonEnv)}#${PYTHON_ENV_ALIAS}`)
  const conf = b.pythonEnv !== undefined ? { ...b.conf, ...PYTHON_ENV_CONF } : b.conf
  return {
    ...(archives.length > 0 ? { archives } : {}),
    ...(conf ? { conf } : {}),
  }
}
