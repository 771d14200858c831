/**
 * SparkBackend over the `spark-submit` of a local Spark: one child per batch, in its own
 * process group, under a small shell wrapper that records its pid and writes the exit code
 * to files — so a batch's status survives a gateway restart (the wrapper keeps running;
 * the files say where it is).
 *
 * SINGLE HOST. All of this backend's state is one host's disk and process table: the batch
 * folders, and pids that only mean something on the host that started them. Every gateway
 * process configured with this backend must run on the same host and share the same
 * workdir; two replicas on two hosts would each see the other's batches as never started
 * or lost, and could not cancel them. Use Livy or Synapse for a multi-host deployment.
 *
 * Each batch has a folder `<workdir>/<batch name>/` holding
 * - `submission.json` — the folder appears with it, in one rename (see submit);
 * - `pid` — the wrapper's own pid (= its process group), written by the wrapper itself;
 * - `log` — spark-submit's stdout + stderr;
 * - `exit` — spark-submit's exit code, written by the wrapper before it ends;
 * - `cancelled` — the first cancel's time; `never-started` — see status.
 * Cancel = SIGTERM to the group, SIGKILL after a grace — only while the pid is still this
 * batch's wrapper (on Linux, read from /proc: pids are reused).
 */
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { constants, createReadStream, existsSync, type Stats } from 'node:fs'
import {
  access,
  mkdir,
  open,
  readdir,
  readFile,
  rename,
  rm,
  stat,
  writeFile,
} from 'node:fs/promises'
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
  /** where batch folders live (survives restarts; one host's disk, see above) */
  workdir: string
  /** --master, e.g. local[2] */
  master: string
  /** SIGTERM → SIGKILL grace on cancel */
  killGraceMs?: number
  /** extra environment of spark-submit (HADOOP_CONF_DIR, PYSPARK_PYTHON, …) */
  env?: Record<string, string>
  /**
   * How long a batch folder may hold a submission but no pid before it counts as never
   * started (the gateway died between creating it and starting the wrapper, which records
   * its pid within milliseconds); also the age after which a leftover folder without a
   * submission is taken over. Default 60 s.
   */
  startGraceMs?: number
  /** the process table (Linux: /proc); where it does not exist, pids are checked with kill -0 */
  procfs?: string
}

const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/
/** argv[0] of every wrapper: how /proc tells our wrappers from other processes */
const WRAPPER = 'sparkgate-local'
/** folders of submits under way: never a batch name (SAFE_NAME starts alphanumeric) */
const TEMP_PREFIX = '.tmp-'
/** a temp folder this old is a crashed submit's: removed (at most one sweep per 10 min) */
const TEMP_MAX_AGE_MS = 3_600_000
const SWEEP_EVERY_MS = 600_000
/** the marker of a batch that status declared never started: its wrapper must not run */
const NEVER_STARTED = 'never-started'

/**
 * The wrapper, `bash -c WRAPPER_SCRIPT sparkgate-local <batch folder> spark-submit args…`
 * (its argv names the folder, so /proc/<pid>/cmdline tells whether a pid is still it):
 * - it records its own pid first (atomically), so a started batch always has one, even
 *   when the gateway dies right after spawning it;
 * - it runs nothing if a cancel or a never-started verdict came before its pid was
 *   recorded: those write their marker first and read the pid after, so either they see
 *   the pid or the wrapper sees the marker;
 * - `trap : TERM`: on a cancel's SIGTERM it waits for spark-submit (signalled with the
 *   whole group) to end, so the group leader — the pid we verify before signalling —
 *   outlives the application, and the SIGKILL after the grace still reaches a stubborn one
 *   (a trapped signal is reset to its default in children: spark-submit gets SIGTERM; one
 *   that lands between the marker check and spark-submit's start is missed by it, and the
 *   SIGKILL ends it);
 * - it ends with the `exit` builtin: bash never execs its last command in its place.
 */
const WRAPPER_SCRIPT = [
  'trap : TERM',
  'SG_DIR=$1; shift',
  'echo $$ >"$SG_DIR/pid.tmp" && mv -f "$SG_DIR/pid.tmp" "$SG_DIR/pid" || exit 70',
  `if [ -e "$SG_DIR/cancelled" ] || [ -e "$SG_DIR/${NEVER_STARTED}" ]; then exit 143; fi`,
  '"$@" >"$SG_DIR/log" 2>&1',
  'code=$?',
  'echo $code >"$SG_DIR/exit.tmp" && mv -f "$SG_DIR/exit.tmp" "$SG_DIR/exit"',
  'exit $code',
].join('\n')

/** bash's arguments for the wrapper of the batch in `dir`, running `command`. */
export function wrapperArgv(dir: string, command: string[]): string[] {
  return ['-c', WRAPPER_SCRIPT, WRAPPER, dir, ...command]
}

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

/** Whether a process with this pid exists (kill -0): all that is known without /proc. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

const code = (error: unknown) => (error as NodeJS.ErrnoException).code

/** Absent (ENOENT, ENOTDIR) is an answer; any other error is not, and must not read as one. */
function absent<T>(error: unknown, path: string): T | undefined {
  if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return undefined
  throw new BackendError('transient', `cannot read ${path}: ${(error as Error).message}`)
}

async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch (error) {
    return absent(error, path)
  }
}

async function statOptional(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path)
  } catch (error) {
    return absent(error, path)
  }
}

const KILLED: BatchStatus = { phase: 'killed', rawState: 'killed' }

export class LocalBackend implements SparkBackend {
  readonly kind = 'local'
  readonly capabilities = { readsStagedFiles: true }
  readonly name: string
  readonly endpoint: string
  private readonly sparkSubmit: string
  private readonly startGraceMs: number
  private readonly procfs: string
  private readonly hasProcfs: boolean
  private lastSweep = 0

  constructor(private readonly o: LocalBackendOptions) {
    this.name = o.name
    this.sparkSubmit = join(o.sparkHome, 'bin', 'spark-submit')
    this.endpoint = `spark-submit --master ${o.master} (${o.sparkHome})`
    this.startGraceMs = o.startGraceMs ?? 60_000
    this.procfs = o.procfs ?? '/proc'
    this.hasProcfs = existsSync(join(this.procfs, 'self', 'cmdline'))
  }

  private dir(name: string) {
    if (!SAFE_NAME.test(name)) throw new BackendError('rejected', `invalid batch name ${name}`)
    return join(this.o.workdir, name)
  }

  async submit(batch: BatchSubmission): Promise<BackendRef> {
    await this.health() // no spark-submit: transient, like a Livy that does not answer
    await this.checkFile(batch.file)
    const dir = this.dir(batch.name)
    await mkdir(this.o.workdir, { recursive: true }).catch((error: unknown) => {
      throw new BackendError('transient', `cannot create ${this.o.workdir}: ${String(error)}`)
    })
    await this.sweep()
    await this.place(batch, dir)
    // The wrapper outlives the gateway: it records its pid, runs spark-submit and writes
    // the exit code (see WRAPPER_SCRIPT).
    const child = spawn(
      'bash',
      wrapperArgv(dir, [this.sparkSubmit, ...sparkSubmitArgs(batch, this.o.master)]),
      {
        detached: true, // its own process group: cancel signals the whole tree
        stdio: 'ignore',
        env: { ...sparkEnvironment(process.env), ...this.o.env },
      },
    )
    child.unref()
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve)
      child.once('error', reject)
    }).catch(async (error: unknown) => {
      // nothing runs: the folder goes, so that the retry submits again
      await rm(dir, { recursive: true, force: true }).catch(() => undefined)
      throw new BackendError('transient', `cannot start spark-submit: ${(error as Error).message}`)
    })
    return { batchId: batch.name, batchName: batch.name }
  }

  /**
   * Creates the batch folder with its submission.json in one step: built under a temp name,
   * then renamed — so a folder under a batch name always holds its submission, and a crash
   * at any point leaves either nothing under that name (the retry submits) or a submitted
   * batch (the retry gets 'duplicate' and adopts it). A crash before the rename leaves a
   * `.tmp-*` folder, which nothing reads and the sweep removes after an hour.
   *
   * A folder without submission.json (and no pid) is an interrupted submit of a version
   * that created the folder first and wrote the submission after: not submitted, so it is
   * taken over. When empty — all such a crash left — the rename itself replaces it
   * atomically (rename(2) replaces an empty directory). When not (not made by any version;
   * taken over only after startGraceMs) it is moved aside and removed first.
   */
  private async place(batch: BatchSubmission, dir: string) {
    const temp = join(this.o.workdir, `${TEMP_PREFIX}${randomUUID()}`)
    const drop = () => rm(temp, { recursive: true, force: true }).catch(() => undefined)
    try {
      await mkdir(temp)
      const file = await open(join(temp, 'submission.json'), 'wx')
      try {
        await file.writeFile(JSON.stringify(batch, null, 2))
        await file.sync() // what is renamed in is on disk
      } finally {
        await file.close()
      }
    } catch (error) {
      await drop()
      throw new BackendError('transient', `cannot write the submission: ${String(error)}`)
    }
    for (let tookOver = false; ; tookOver = true) {
      try {
        await rename(temp, dir)
        return
      } catch (error) {
        if (code(error) !== 'EEXIST' && code(error) !== 'ENOTEMPTY') {
          await drop()
          throw new BackendError('transient', `cannot create ${dir}: ${String(error)}`)
        }
      }
      const taken = tookOver ? 'submitted' : await this.takeOver(dir)
      if (taken === 'moved') continue
      await drop()
      if (taken === 'young')
        throw new BackendError(
          'transient',
          `${dir} exists without a submission; taken over once older than ${this.startGraceMs} ms`,
        )
      throw new BackendError('duplicate', `Duplicate batch name: ${batch.name}`)
    }
  }

  /** A batch folder there already: submitted, or a leftover that is moved out of the way. */
  private async takeOver(dir: string): Promise<'submitted' | 'young' | 'moved'> {
    if (await this.submitted(dir)) return 'submitted'
    const found = await statOptional(dir)
    if (!found) return 'moved' // removed meanwhile: the rename is tried again
    if (Date.now() - found.mtimeMs < this.startGraceMs) return 'young'
    const aside = join(this.o.workdir, `${TEMP_PREFIX}${randomUUID()}`)
    try {
      await rename(dir, aside)
    } catch (error) {
      return code(error) === 'ENOENT' ? 'moved' : 'submitted'
    }
    if (await this.submitted(aside)) {
      // a concurrent submit of the same name placed its batch in between: put it back
      await rename(aside, dir).catch(() => undefined)
      return 'submitted'
    }
    await rm(aside, { recursive: true, force: true }).catch(() => undefined)
    return 'moved'
  }

  /** A folder holds a batch when it has its submission (or, whatever made it, a pid). */
  private async submitted(dir: string) {
    return (
      (await statOptional(join(dir, 'submission.json'))) !== undefined ||
      (await statOptional(join(dir, 'pid'))) !== undefined
    )
  }

  /** Removes the temp folders of submits that crashed before their rename. */
  private async sweep() {
    if (Date.now() - this.lastSweep < SWEEP_EVERY_MS) return
    this.lastSweep = Date.now()
    try {
      for (const entry of await readdir(this.o.workdir)) {
        if (!entry.startsWith(TEMP_PREFIX)) continue
        const path = join(this.o.workdir, entry)
        const found = await stat(path).catch(() => undefined)
        if (found && Date.now() - found.mtimeMs > TEMP_MAX_AGE_MS)
          await rm(path, { recursive: true, force: true })
      }
    } catch {
      // housekeeping: the next sweep tries again
    }
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

  /**
   * Whether `pid` is still this batch's wrapper. Pids are reused once a process ended, so
   * on Linux its command line must name the wrapper and this batch (its folder; or its
   * `--name`, for wrappers started before the folder was in their argv); a zombie's is
   * empty: ended. Without /proc, only kill -0 — there a reused pid reads as alive.
   */
  private async isWrapper(pid: number, dir: string, name: string): Promise<boolean> {
    if (!Number.isInteger(pid) || pid <= 1) return false // never our own group, nor -1
    if (!this.hasProcfs) return alive(pid)
    const path = join(this.procfs, String(pid), 'cmdline')
    let argv: string[]
    try {
      argv = (await readFile(path, 'utf8')).split('\0')
    } catch (error) {
      if (code(error) === 'ESRCH') return false
      return absent(error, path) ?? false
    }
    if (!argv.includes(WRAPPER)) return false
    return argv.includes(dir) || argv.some((a, i) => a === '--name' && argv[i + 1] === name)
  }

  /**
   * The batch's status from its folder. The files are read in a fixed order — the cancel
   * marker, the pid, the exit code — and the wrapper writes its pid before it runs
   * anything and its exit code before it ends, so:
   * - no folder, or a folder without a submission and pid: not a batch (undefined);
   * - an exit code: the batch ended, with it (see ended() for a cancel's part);
   * - no pid: not started yet (pending), killed if a cancel came first, or never started
   *   once startGraceMs passed since the submission;
   * - a pid that is still our wrapper: running (a kill under way included);
   * - a pid that is not (anymore): the wrapper ended — its exit code, if it wrote it after
   *   the first read, decides; else it was killed: by a cancel, or lost (a reboot, kill -9).
   *   Never `lost` for a wrapper that ended normally: it wrote `exit` before it ended, and
   *   `exit` is read again after the process is found gone.
   */
  async status(ref: BackendRef): Promise<BatchStatus | undefined> {
    const dir = this.dir(ref.batchId)
    const cancelled = await this.cancelledAt(dir)
    let pid = await readOptional(join(dir, 'pid'))
    const exit = await readOptional(join(dir, 'exit'))
    if (exit !== undefined) return this.ended(dir, exit, cancelled)
    if (pid === undefined) {
      const unstarted = await this.unstarted(dir, cancelled)
      if (unstarted !== 'started') return unstarted
      pid = (await readOptional(join(dir, 'pid'))) ?? ''
    }
    if (await this.isWrapper(Number(pid), dir, ref.batchId))
      return { phase: 'running', rawState: 'running' }
    const code = await readOptional(join(dir, 'exit'))
    if (code !== undefined) return this.ended(dir, code, cancelled)
    if (cancelled !== undefined || (await this.cancelledAt(dir)) !== undefined) return KILLED
    if (await statOptional(join(dir, NEVER_STARTED)))
      return { phase: 'failed', rawState: 'never started' }
    // no exit code and no wrapper: the wrapper itself was killed (kill -9, a reboot)
    return { phase: 'failed', rawState: 'lost' }
  }

  /**
   * A submitted batch without a pid: its wrapper has not recorded itself yet — or never
   * will (the gateway died after creating the folder, before spawning it). After
   * startGraceMs it is `failed / never started` (the tracker retries it while attempts are
   * left) — a promise, not a guess: the never-started marker is written first, and a
   * wrapper that starts after all sees it and exits without running anything.
   */
  private async unstarted(
    dir: string,
    cancelled: number | undefined,
  ): Promise<BatchStatus | undefined | 'started'> {
    const submission = await statOptional(join(dir, 'submission.json'))
    if (!submission) return undefined // gone, or never a batch
    // the wrapper, if it ever starts, sees the cancel marker and runs nothing
    if (cancelled !== undefined) return KILLED
    if (Date.now() - submission.mtimeMs < this.startGraceMs)
      return { phase: 'pending', rawState: 'starting' }
    await writeFile(join(dir, NEVER_STARTED), new Date().toISOString(), { flag: 'wx' }).catch(
      (error: unknown) => {
        if (code(error) !== 'EEXIST') throw new BackendError('transient', String(error))
      },
    )
    // recorded just before the marker: it started (and runs, or saw the marker and ended)
    if ((await statOptional(join(dir, 'pid'))) !== undefined) return 'started'
    return { phase: 'failed', rawState: 'never started' }
  }

  /** When the first cancel was requested (the marker's mtime), if one was. */
  private async cancelledAt(dir: string) {
    return (await statOptional(join(dir, 'cancelled')))?.mtimeMs
  }

  /**
   * A batch whose wrapper wrote an exit code. Against a cancel, what a Livy user expects:
   * - exit 0 is `succeeded`, cancel or not: spark-submit ran the application to its end
   *   (a Spark application signalled by a cancel exits non-zero, 143), so the cancel came
   *   too late, as a DELETE to a Livy batch already in `success` — its output is complete;
   * - a non-zero exit written after the cancel was requested is `killed` (the cancel's
   *   doing); one written before it is `failed`: the batch had already failed on its own.
   */
  private async ended(dir: string, exit: string, cancelled: number | undefined) {
    if (exit === '0') return { phase: 'succeeded', rawState: 'success' } satisfies BatchStatus
    const killedAfter = cancelled ?? (await this.cancelledAt(dir))
    if (killedAfter !== undefined) {
      const exited = (await statOptional(join(dir, 'exit')))?.mtimeMs ?? Infinity
      // the same clock tick counts as after: file times are coarse (a few ms)
      if (exited >= killedAfter) return KILLED
    }
    return { phase: 'failed', rawState: `exit ${exit}` } satisfies BatchStatus
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
    return (await this.submitted(this.dir(name))) ? { batchId: name, batchName: name } : undefined
  }

  /**
   * The cancel marker first (kept from the first cancel: its time tells a failure before
   * the cancel from the kill), then the pid: a wrapper that had not recorded its pid yet
   * sees the marker and runs nothing. Signals go to the group only while its leader is
   * still this batch's wrapper — never to a process that took over the pid.
   */
  async cancel(ref: BackendRef): Promise<void> {
    const dir = this.dir(ref.batchId)
    await writeFile(join(dir, 'cancelled'), new Date().toISOString(), { flag: 'wx' }).catch(
      () => undefined, // cancelled before, or no such batch
    )
    const pid = Number(await readOptional(join(dir, 'pid')))
    if (!(await this.isWrapper(pid, dir, ref.batchId))) return
    const signal = (s: NodeJS.Signals) => {
      try {
        process.kill(-pid, s)
      } catch {
        // the group is gone
      }
    }
    signal('SIGTERM')
    setTimeout(() => {
      // the wrapper waits for spark-submit: alive after the grace = the application too
      void this.isWrapper(pid, dir, ref.batchId).then(
        (ours) => ours && signal('SIGKILL'),
        () => undefined,
      )
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
