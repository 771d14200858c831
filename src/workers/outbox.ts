/** The enqueue outbox, drained at each tracker tick. */
import { rankOf } from '../domain/job-service.js'
import type { WorkerContext } from './queues.js'

/**
 * Queued jobs whose queue entry was not made (a crash between recording and enqueueing)
 * get it; the entry's id makes a second one a no-op, so a race with the API is harmless.
 * A job of a backend this process does not have waits for a process that has it.
 */
export async function drainOutbox(o: WorkerContext & { outboxGraceMs?: number }) {
  const { store, queues, log } = o
  for (const id of await store.outbox(o.outboxGraceMs ?? 2000)) {
    const job = await store.get(id)
    if (!job || job.state !== 'queued') {
      await store.enqueued(id) // moved on meanwhile: nothing to enqueue
      continue
    }
    if (!o.backends.byName.has(job.backend)) continue
    log.warn({ jobId: id }, 'queued job had no queue entry: enqueued')
    await queues.enqueue(job.backend, id, job.attempts + 1, rankOf(job))
    await store.enqueued(id)
  }
}
