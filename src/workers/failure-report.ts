/** What a failed job's record keeps: its error, its own reason first, and its log's tail. */
import type { Job, JobError } from '../domain/job-schema.js'
import type { SparkBackend } from '../domain/ports/spark-backend.js'
import { REPORT_SCAN_LINES, reportedError, type Decision } from '../domain/reconcile.js'
import type { TrackerOptions } from './tracker.js'

/** A failure's error and log lines: with `report`, the job's own reason first. */
export async function failure(
  o: Pick<TrackerOptions, 'failureLogLines' | 'kinds' | 'log'>,
  job: Job,
  d: Extract<Decision, { do: 'fail' }>,
  backend: SparkBackend,
) {
  const keep = o.failureLogLines
  if (d.log !== 'report') {
    const logLines = d.log === 'tail' ? await logTail(backend, job, keep) : []
    return { ...d.error, logLines } satisfies JobError
  }
  // its error file, and one read of the log's tail: its last lines and SPARKGATE_ERROR line
  const [fromFile, tail] = await Promise.all([
    o.kinds?.reportedError(job).catch((error: unknown) => {
      const err = error instanceof Error ? error.message : String(error)
      o.log.warn({ jobId: job.id, err }, 'error file unreadable: the log tells why')
      return undefined
    }),
    logTail(backend, job, REPORT_SCAN_LINES),
  ])
  return reportedError(d.error, tail, keep, fromFile)
}

/** The last `size` lines of the application's log worth keeping (none when unreadable). */
export async function logTail(backend: SparkBackend, job: Job, size: number): Promise<string[]> {
  if (size === 0 || !job.backendRef) return []
  try {
    return await backend.tail(job.backendRef, size)
  } catch {
    return []
  }
}
