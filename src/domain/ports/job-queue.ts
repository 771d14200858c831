/**
 * The job queue port: how the job core hands a job to the submit workers. One queue per
 * backend; each entry is one submission attempt of one job (payload: the job id only,
 * no spec, no secret). src/workers/ implements it on BullMQ.
 */
export interface JobQueue {
  /** Queues one submission attempt with the job's priority (1 = highest); again = no-op. */
  enqueue(backend: string, jobId: string, attempt: number, priority: number): Promise<void>
  /** Drops a waiting attempt (a cancel); one a worker holds right now is left to it. */
  remove(backend: string, jobId: string, attempt: number): Promise<void>
  /** Whether the attempt has a queue entry (reconciliation after a crash). */
  has(backend: string, jobId: string, attempt: number): Promise<boolean>
  /** Attempts waiting for a worker (queued, prioritized or delayed for a retry). */
  waiting(backend: string): Promise<number>
  close(): Promise<void>
}
