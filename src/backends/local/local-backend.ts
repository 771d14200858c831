/**
 * SparkBackend over the `spark-submit` of a local Spark: one child per batch, in its own
 * process group, under a small shell wrapper that writes the exit code to a file — so a
 * batch's status survives a gateway restart (the wrapper keeps running; the files say
 * where it is). Each batch has a folder `<workdir>/<batch name>/` holding `submission.json`,
 * `pid` (the process group), `log` (stdout + stderr), `exit` once it ended, and
 * `cancelled` when it was cancelled. Cancel = SIGTERM to the group, SIGKILL after a grace.
 */
import { spawn } from 'node:child_process'
import { constants, createReadStream } from 'node:fs'
import { access, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { BackendRef } from '../../domain/job-schema.js'
import {
  batchKey,
  BackendError,
  type BatchStatus,
  type BatchSubmission,
  type LogPage,
  type SparkBackend,
} from '../../domain/ports/spark-backend.js'
import { tailOf } from '../log-tail.js'

export interface LocalBackendOptions {
  name: string
  /** SPARK_HOME; spark-submit is bin/spark-submit under it */
  sparkHome: string
  /** where batch folders live (survives restarts) */
  workdir: string
  /** --master, e.g. local[2] */
  master: string
  /** SIGTERM → SIGKILL grace on cancel */
  killGraceMs?: number
  /** extra environment of spark-submit (HADOOP_CONF_DIR, PYSPARK_PYTHON, …) */
  env?: Record<string, string>
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/

/** spark-submit's argument list for a submission. */
export function sparkSubmitArgs(b: BatchSubmission, master: string): string[] {
  const args = ['--master', master, '--name', b.name]
  if (b.className) args.push('--class', b.className)
  if (b.driverMemory) args.push('--driver-memory', b.driverMemory)
  if (b.driverCores) args.push('--driver-cores', String(b.driverCores))
  if (b.executorMemory) args.push('--executor-memory', b.executorMemory)
  if (b.executorCores) args.push('--executor-cores', String(b.executorCores))
  if (b.numExecutors) args.push('--num-executors', String(b.numExecutors))
  if (b.pyFiles?.length) args.push('--py-files', b.pyFiles.join(','))
  if (b.jars?.length) args.push('--jars', b.jars.join(','))
  if (b.files?.length) args.push('--files', b.files.join(','))
  for (const [k, v] of Object.entries(b.conf ?? {})) args.push('--conf', `${k}=${v}`)
  args.push(b.file, ...(b.args ?? []))
  return args
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch {
    return undefined
  }
}

export class LocalBackend implements SparkBackend {
  readonly kind = 'local'
  readonly capabilities = { readsStagedFiles: true }
  readonly name: string
  readonly endpoint: string
  private readonly sparkSubmit: string

  constructor(private readonly o: LocalBackendOptions) {
    this.name = o.name
    this.sparkSubmit = join(o.sparkHome, 'bin', 'spark-submit')
    this.endpoint = `spark-submit --master ${o.master} (${o.sparkHome})`
  }

  private dir(name: string) {
    if (!SAFE_NAME.test(name)) throw new BackendError('rejected', `invalid batch name ${name}`)
    return join(this.o.workdir, name)
  }

  async submit(batch: BatchSubmission): Promise<BackendRef> {
    await this.health() // no spark-submit: transient, like a Livy that does not answer
    await this.checkFile(batch.file)
    const dir = this.dir(batch.name)
    await mkdir(this.o.workdir, { recursive: true })
    try {
      await mkdir(dir) // not recursive: an existing folder means this name was submitted
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw new BackendError('duplicate', `Duplicate batch name: ${batch.name}`)
      throw new BackendError('transient', `cannot create ${dir}: ${(error as Error).message}`)
    }
    await writeFile(join(dir, 'submission.json'), JSON.stringify(batch, null, 2))
    // The wrapper outlives the gateway: it runs spark-submit and writes the exit code.
    const script =
      '"$@" >"$SG_DIR/log" 2>&1; echo $? >"$SG_DIR/exit.tmp" && mv "$SG_DIR/exit.tmp" "$SG_DIR/exit"'
    const child = spawn(
      'bash',
      ['-c', script, 'sparkgate-local', this.sparkSubmit, ...sparkSubmitArgs(batch, this.o.master)],
      {
        detached: true, // its own process group: cancel signals the whole tree
        stdio: 'ignore',
        env: { ...sparkEnvironment(process.env), ...this.o.env, SG_DIR: dir },
      },
    )
    child.unref()
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', reject)
    }).catch((error: unknown) => {
      throw new BackendError('transient', `cannot start spark-submit: ${(error as Error).message}`)
    })
    await writeFile(join(dir, 'pid'), String(child.pid))
    return { batchId: batch.name, batchName: batch.name }
  }

  /** Like Livy's 400s: what spark-submit could never run is refused up front. */
  private async checkFile(file: string) {
    if (file.startsWith('file://') || file.startsWith('/')) {
      const path = file.startsWith('file://') ? new URL(file).pathname : file
      try {
        await access(path, constants.R_OK)
      } catch {
        throw new BackendError('rejected', `local file ${path} does not exist or is not readable`)
      }
    } else if (!/^(hdfs|s3a|gs|abfss|wasbs):\/\//.test(file)) {
      throw new BackendError(
        'rejected',
        `spark-submit cannot read ${file}: use hdfs://, file:// or an absolute path`,
      )
    }
  }

  async status(ref: BackendRef): Promise<BatchStatus | undefined> {
    const dir = this.dir(ref.batchId)
    const [exit, cancelled, pid] = await Promise.all([
      readOptional(join(dir, 'exit')),
      readOptional(join(dir, 'cancelled')),
      readOptional(join(dir, 'pid')),
    ])
    if (pid === undefined) {
      // the folder without a pid: gone, or a submit that died before recording it
      return (await readOptional(join(dir, 'submission.json'))) === undefined
        ? undefined
        : { phase: 'pending', rawState: 'starting' }
    }
    const running = exit === undefined && alive(Number(pid))
    // the wrapper may have written its exit code and ended after the first read
    const code = exit ?? (running ? undefined : await readOptional(join(dir, 'exit')))
    if (cancelled !== undefined && !running) return { phase: 'killed', rawState: 'killed' }
    if (code !== undefined) {
      return code === '0'
        ? { phase: 'succeeded', rawState: 'success' }
        : { phase: 'failed', rawState: `exit ${code}` }
    }
    if (running) return { phase: 'running', rawState: 'running' }
    // no exit code and no process: the wrapper itself was killed (e.g. a reboot)
    return { phase: 'failed', rawState: 'lost' }
  }

  /** Local files, not an API: one read per batch folder. */
  async statusMany(refs: BackendRef[]): Promise<Map<string, BatchStatus>> {
    const out = new Map<string, BatchStatus>()
    await Promise.all(
      refs.map(async (ref) => {
        const status = await this.status(ref)
        if (status) out.set(batchKey(ref), status)
      }),
    )
    return out
  }

  async findByName(name: string): Promise<BackendRef | undefined> {
    if (!SAFE_NAME.test(name)) return undefined
    const submitted = await readOptional(join(this.dir(name), 'submission.json'))
    return submitted === undefined ? undefined : { batchId: name, batchName: name }
  }

  async cancel(ref: BackendRef): Promise<void> {
    const dir = this.dir(ref.batchId)
    const pid = Number(await readOptional(join(dir, 'pid')))
    await writeFile(join(dir, 'cancelled'), new Date().toISOString()).catch(() => undefined)
    if (!pid || !alive(pid)) return
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-pid, s)
      } catch {
        // the group is gone
      }
    }
    signal('SIGTERM')
    setTimeout(() => {
      if (alive(pid)) signal('SIGKILL')
    }, this.o.killGraceMs ?? 10_000).unref()
  }

  async logs(ref: BackendRef, from: number, size: number): Promise<LogPage> {
    const path = join(this.dir(ref.batchId), 'log')
    const lines: string[] = []
    let total = 0
    try {
      const reader = createInterface({ input: createReadStream(path), crlfDelay: Infinity })
      for await (const line of reader) {
        if (total >= from && lines.length < size) lines.push(line)
        total++
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
      if ((await this.findByName(ref.batchId)) === undefined)
        throw new BackendError('not_found', `no local batch ${ref.batchId}`)
    }
    return { from, total, lines }
  }

  /** spark-submit's own output: only blank lines are noise */
  tail(ref: BackendRef, size: number): Promise<string[]> {
    return tailOf((r, from, n) => this.logs(r, from, n), ref, size)
  }

  async health(): Promise<void> {
    try {
      await access(this.sparkSubmit, constants.X_OK)
    } catch {
      throw new BackendError('transient', `${this.sparkSubmit} is not executable`)
    }
  }
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
