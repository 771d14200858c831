/**
 * The tracker's decisions, as pure functions: a live job's record and its backend's view
 * of its batch in, what to do out. No I/O here — src/workers/tracker.ts reads the world
 * (one status call per tick), asks decide(), and applies what it says; unit tests
 * (test/unit/reconcile.test.ts) check every decision without a service.
 *
 *   backend view                      job                         decision
 *   ─────────────────────────────────────────────────────────────────────────────────────
 *   gone (< 3 ticks)                  any                         nothing (count the miss)
 *   gone (3 ticks)                    cancel asked / timing out   cancelled / timed out
 *   gone (3 ticks)                    otherwise                   lost: its output decides
 *   pending, running                  cancel asked                kill (again)
 *   pending, running                  past timeoutSeconds         kill, fail TIMEOUT
 *   killed, failed                    cancel asked / timing out   cancelled / timed out
 *   pending                           -                           record the raw state
 *   running                           submitted                   → running
 *   succeeded                         -                           → succeeded
 *   killed                            -                           fail (or retry) SPARK_APP_KILLED
 *   failed                            -                           fail (or retry), by its report
 *   its warm engine lost              -                           ENGINE_LOST: queued again
 */
import type { Job, JobError, JobRecord } from './job-schema.js'
import type { BatchStatus } from './ports/spark-backend.js'

/** Fields a decision records on the job with its transition (or alone). */
export type Recorded = Partial<Record<string, string | number | boolean | object | undefined>>

export type Decision =
  | { do: 'nothing' }
  /** record the backend's raw state and ref (no transition) */
  | { do: 'update'; set: Recorded }
  /** a cancel whose kill failed (or whose process died): kill again, record, wait */
  | { do: 'kill'; set: Recorded }
  /**
   * fail TIMEOUT: killing first when `kill` (recording why before, unless recorded), with
   * the log's tail when the batch is still there to read
   */
  | { do: 'timeout'; set: Recorded; kill: boolean; recordReason: boolean; log: boolean }
  | { do: 'running'; set: Recorded; reason: string }
  | { do: 'succeeded'; set: Recorded; reason: string }
  | { do: 'cancelled'; set: Recorded; reason: string }
  /**
   * fail, or queue again while attempts remain; `log`: none, its tail, or its tail with the
   * job's own report (reportedError: its error file, else its SPARKGATE_ERROR line)
   */
  | {
      do: 'fail'
      set: Recorded
      error: Omit<JobError, 'logLines'>
      log: 'none' | 'tail' | 'report'
    }
  /** the backend forgot the batch for good: what the job wrote decides (lostDecision) */
  | { do: 'lost' }

/** Ticks in a row a batch may be missing from its backend's answer before it is lost. */
export const MISSING_TICKS_BEFORE_LOST = 3

export interface View {
  /** the backend's view of the batch; undefined: not in its answer */
  status: BatchStatus | undefined
  /** ticks in a row it has been missing, this one included (0 when present) */
  misses: number
  /** the clock, in ms (Redis's) */
  now: number
  /** the backend's name, for reasons and messages */
  backend: string
}

const killReasonOf = (job: Job) => (job as JobRecord).internals?.killReason

/** What the tracker does with one live job this tick. */
export function decide(job: Job, view: View): Decision {
  const { status, backend } = view
  const ref = job.backendRef!
  const killReason = killReasonOf(job)
  if (!status) {
    if (view.misses < MISSING_TICKS_BEFORE_LOST) return { do: 'nothing' }
    // killed on purpose, then a crash before the record: the end it was killed for
    if (job.cancelRequested)
      return { do: 'cancelled', set: {}, reason: 'its batch is gone after a cancel' }
    if (killReason === 'timeout')
      return { do: 'timeout', set: {}, kill: false, recordReason: false, log: false }
    return { do: 'lost' }
  }

  const refUpdate = {
    ...ref,
    ...(status.appId ? { appId: status.appId } : {}),
    ...(status.driverLogUrl ? { driverLogUrl: status.driverLogUrl } : {}),
    ...(status.sparkUiUrl ? { sparkUiUrl: status.sparkUiUrl } : {}),
    ...(status.engine ? { engine: status.engine } : {}),
  }
  const changedRef = JSON.stringify(refUpdate) !== JSON.stringify(ref)
  const set = { backendState: status.rawState, ...(changedRef ? { backendRef: refUpdate } : {}) }
  const changed = status.rawState !== job.backendState || changedRef
  const recordIfChanged = (): Decision => (changed ? { do: 'update', set } : { do: 'nothing' })

  const live = status.phase === 'pending' || status.phase === 'running'
  // A cancel whose kill failed, or whose process died after it: kill (again) until the
  // backend reports the batch ended; then it ends cancelled (below).
  if (job.cancelRequested && live) return { do: 'kill', set: changed ? set : {} }
  const started = Date.parse(job.startedAt ?? job.submittedAt ?? job.createdAt)
  if (
    job.timeoutSeconds &&
    live &&
    (killReason === 'timeout' || view.now - started > job.timeoutSeconds * 1000)
  )
    return { do: 'timeout', set, kill: true, recordReason: killReason !== 'timeout', log: true }

  // its warm engine died (or none is left): back to the queue, the attempt not counted
  if (status.engineLost) {
    if (job.cancelRequested) return { do: 'cancelled', set, reason: 'cancelled; its engine ended' }
    return {
      do: 'fail',
      set,
      log: 'none',
      error: { code: 'ENGINE_LOST', message: status.engineLost },
    }
  }

  // Killed by us (a kill can also end as a failure, Livy: dead): the end it was killed for
  if (status.phase === 'killed' || status.phase === 'failed') {
    if (job.cancelRequested) return { do: 'cancelled', set, reason: 'killed on request' }
    if (killReason === 'timeout')
      return { do: 'timeout', set, kill: false, recordReason: false, log: true }
  }

  switch (status.phase) {
    case 'pending':
      return recordIfChanged()
    case 'running':
      if (job.state === 'submitted')
        return { do: 'running', set, reason: `${backend}: ${status.rawState}` }
      return recordIfChanged()
    case 'succeeded':
      return { do: 'succeeded', set, reason: `${backend}: ${status.rawState}` }
    case 'killed':
      return {
        do: 'fail',
        set,
        log: 'tail',
        error: {
          code: 'SPARK_APP_KILLED',
          message: `the application was killed outside Sparkgate (${backend} state ${status.rawState})`,
        },
      }
    case 'failed':
      return {
        do: 'fail',
        set,
        log: 'report',
        error: {
          code: 'SPARK_APP_FAILED',
          message: `the Spark application failed (${backend} state ${status.rawState})`,
        },
      }
  }
}

/** A batch the backend forgot: succeeded when the job's own output says so, else lost. */
export function lostDecision(
  job: Job,
  outcome: 'succeeded' | undefined,
  backend: string,
): Decision {
  const batch = job.backendRef!.batchId
  if (outcome === 'succeeded')
    return {
      do: 'succeeded',
      set: {},
      reason: `${backend} forgot batch ${batch}; its output shows it succeeded`,
    }
  return {
    do: 'fail',
    set: {},
    log: 'none',
    error: {
      code: 'BACKEND_LOST',
      message: `${backend} no longer knows batch ${batch} (restarted, or its retention expired)`,
    },
  }
}

const REPORTED = 'SPARKGATE_ERROR: '
/** how far back in a failed application's log its SPARKGATE_ERROR line is looked for */
export const REPORT_SCAN_LINES = 2000

/**
 * A failed application's error from what a job that explains itself (jobs/train.py,
 * score.py) reported: first the message of its run's error file (`fromFile`, read by its
 * kind: the only report a YARN cluster-mode driver leaves where the gateway can read it),
 * else the SPARKGATE_ERROR line it printed in its log's tail; either makes it
 * SPARK_JOB_ERROR with that message. Neither: the decision's own error. The log's last
 * `keep` lines go with it either way.
 */
export function reportedError(
  error: Omit<JobError, 'logLines'>,
  tail: string[],
  keep: number,
  fromFile?: string,
): JobError {
  const logLines = keep === 0 ? [] : tail.slice(-keep)
  const line = tail.findLast((l) => l.includes(REPORTED))
  const reported = fromFile?.trim() || line?.slice(line.indexOf(REPORTED) + REPORTED.length).trim()
  if (reported) return { code: 'SPARK_JOB_ERROR', message: reported, logLines }
  const cause = causeInLog(tail)
  return { ...error, ...(cause ? { message: `${error.message}: ${cause}` } : {}), logLines }
}

/** `[container_… stdout] ` and the like, before a driver's line in a backend's log */
const SOURCE = /^\[[^\]]*\] /
/** a Java or Python exception line: `pkg.Class(Exception|Error): message` (a cause: `: …`) */
const EXCEPTION = /^(?::\s*)?((?:[A-Za-z_$][\w$]*\.)*[A-Z][\w$]*(?:Exception|Error)(?::\s.*)?)$/
/** exceptions that only wrap the real one (PySpark's bridge, Spark's exit of a user app) */
const WRAPPERS = /^(py4j\.protocol\.Py4JJavaError|org\.apache\.spark\.SparkUserAppException)\b/

/**
 * What a failed application that did not explain itself died of, from its log's tail: the
 * first exception line of its last Python traceback that is not a wrapper (so PySpark's
 * `Py4JJavaError` gives way to the Java exception under it, e.g. HDFS's
 * `AccessControlException: Permission denied: …`); with no traceback, the last exception
 * line. Undefined when there is none.
 */
export function causeInLog(tail: string[]): string | undefined {
  const lines = tail.map((l) => l.replace(SOURCE, '').trim())
  const traceback = lines.findLastIndex((l) => l.startsWith('Traceback (most recent call last)'))
  const exception = (l: string) => {
    const found = EXCEPTION.exec(l)?.[1]
    return found && !WRAPPERS.test(found) ? found : undefined
  }
  const found =
    traceback >= 0
      ? lines.slice(traceback).map(exception).find(Boolean)
      : lines.map(exception).findLast(Boolean)
  return found && found.length > 500 ? `${found.slice(0, 500)}…` : found
}

/** Whether a failed attempt goes back to the queue: attempts left, and no cancel asked. */
export function retries(job: Pick<Job, 'attempts' | 'maxAttempts' | 'cancelRequested'>) {
  return job.attempts < job.maxAttempts && !job.cancelRequested
}
