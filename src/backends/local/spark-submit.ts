/**
 * The spark-submit command of a local batch: its argument list, and the little of the
 * gateway's environment it may see.
 */
import type { BatchSubmission } from '../../domain/ports/spark-backend.js'

/** Whether a --master is YARN's (a queue and a working directory of unpacked archives). */
export function isYarn(master: string): boolean {
  return master === 'yarn' || master.startsWith('yarn-')
}

/** spark-submit's argument list for a submission; its queue only on YARN (else ignored). */
export function sparkSubmitArgs(b: BatchSubmission, master: string): string[] {
  const args = ['--master', master, '--name', b.name]
  if (b.queue && isYarn(master)) args.push('--queue', b.queue)
  if (b.className) args.push('--class', b.className)
  if (b.driverMemory) args.push('--driver-memory', b.driverMemory)
  if (b.driverCores) args.push('--driver-cores', String(b.driverCores))
  if (b.executorMemory) args.push('--executor-memory', b.executorMemory)
  if (b.executorCores) args.push('--executor-cores', String(b.executorCores))
  if (b.numExecutors) args.push('--num-executors', String(b.numExecutors))
  if (b.pyFiles?.length) args.push('--py-files', b.pyFiles.join(','))
  if (b.jars?.length) args.push('--jars', b.jars.join(','))
  if (b.files?.length) args.push('--files', b.files.join(','))
  if (b.archives?.length) args.push('--archives', b.archives.join(','))
  for (const [k, v] of Object.entries(b.conf ?? {})) args.push('--conf', `${k}=${v}`)
  args.push(b.file, ...(b.args ?? []))
  return args
}

/** What spark-submit may see of the gateway's environment: what Spark, Java and Python need. */
const PASSED = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'JAVA_HOME',
  'SPARK_HOME',
  'SPARK_CONF_DIR',
  'SPARK_LOCAL_IP',
  'SPARK_LOCAL_DIRS',
  'HADOOP_HOME',
  'HADOOP_CONF_DIR',
  'YARN_CONF_DIR',
  'PYSPARK_PYTHON',
  'PYSPARK_DRIVER_PYTHON',
  'PYTHONPATH',
]

/**
 * The minimal environment of a local spark-submit: only the variables in PASSED — never
 * the gateway's own settings (SPARKGATE_*, its admin key), cloud credentials or tokens.
 */
export function sparkEnvironment(parent: NodeJS.ProcessEnv): Record<string, string> {
  const env: Record<string, string> = {}
  for (const name of PASSED) {
    const value = parent[name]
    if (value !== undefined) env[name] = value
  }
  return env
}
