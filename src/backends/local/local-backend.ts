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
import { constants, createReadStream, existsSync } from 'node:fs'
import { access, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { BackendRef } from '../../domain/job-schema.js'
import {
  batchKey,
  BackendError,
  type BackendCapabilities,
  type BatchStatus,
  type BatchSubmission,
  type LogPage,
  type SparkBackend,
} from '../../domain/ports/spark-backend.js'
import { tailOf } from '../log-tail.js'
import { BatchFolders } from './batch-folders.js'
import { code, readOptional, statOptional } from './optional-files.js'
import { isYarn, sparkEnvironment, sparkSubmitArgs } from './spark-submit.js'
import { isWrapper, NEVER_STARTED, wrapperArgv } from './wrapper.js'

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

const KILLED: BatchStatus = { phase: 'killed', rawState: 'killed' }

export class LocalBackend implements SparkBackend {
  readonly kind = 'local'
  readonly capabilities: BackendCapabilities
  readonly name: string
  readonly endpoint: string
  private readonly sparkSubmit: string
  private readonly startGraceMs: number
  /** the process table, when this host has one (Linux: /proc) */
  private readonly procfs: string | undefined
  private readonly folders: BatchFolders

  constructor(private readonly o: LocalBackendOptions) {
    this.name = o.name
    this.sparkSubmit = join(o.sparkHome, 'bin', 'spark-submit')
    this.endpoint = `spark-submit --master ${o.master} (${o.sparkHome})`
    // only YARN unpacks --archives into the working directory (a packed Python's ./env/)
    this.capabilities = { readsStagedFiles: true, workDirArchives: isYarn(o.master) }
    this.startGraceMs = o.startGraceMs ?? 60_000
    this.folders = new BatchFolders(o.workdir, this.startGraceMs)
    const procfs = o.procfs ?? '/proc'
    this.procfs = existsSync(join(procfs, 'self', 'cmdline')) ? procfs : undefined
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
    await this.folders.sweep()
    await this.folders.place(batch, dir)
    // The wrapper outlives the gateway: it records its pid, runs spark-submit and writes
    // the exit code (see wrapper.ts).
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
    if (await isWrapper(this.procfs, Number(pid), dir, ref.batchId))
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
    return (await this.folders.submitted(this.dir(name)))
      ? { batchId: name, batchName: name }
      : undefined
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
    if (!(await isWrapper(this.procfs, pid, dir, ref.batchId))) return
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
      void isWrapper(this.procfs, pid, dir, ref.batchId).then(
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
