/**
 * What Livy and the backends that speak Livy's batch protocol (Azure Synapse) share: the
 * batch state words and their reading, and the shape of their logs (sections opened by a
 * `stdout:` / `stderr:` line), and the paged list that the tracker reads once a tick.
 */
import type { BackendRef } from '../domain/job-schema.js'
import { batchKey, type BatchStatus, type Phase } from '../domain/ports/spark-backend.js'

export type LivyBatchState =
  | 'not_started'
  | 'starting'
  | 'recovering'
  | 'idle'
  | 'running'
  | 'busy'
  | 'shutting_down'
  | 'error'
  | 'dead'
  | 'killed'
  | 'success'

const PHASES: Record<LivyBatchState, Phase> = {
  not_started: 'pending',
  starting: 'pending',
  recovering: 'pending',
  idle: 'running',
  running: 'running',
  busy: 'running',
  shutting_down: 'running',
  success: 'succeeded',
  dead: 'failed',
  error: 'failed',
  killed: 'killed',
}

/** Our reading of a Livy batch state; an unknown word is still pending. */
export function livyPhase(state: string): Phase {
  return Object.hasOwn(PHASES, state) ? PHASES[state as LivyBatchState] : 'pending'
}

/** A log line worth keeping: not blank, not a section marker. */
export function livyLogLine(line: string): boolean {
  const l = line.trim()
  return l !== '' && l !== 'stdout:' && l !== 'stderr:'
}

/** One page of a batch list (`GET /batches?from=&size=`), as the client hands it over. */
export interface BatchPage<B> {
  sessions: B[]
  total: number
}

/**
 * Every batch, page by page from 0 until a short page or `total`: one logical list call
 * per tick, whatever the number of live jobs.
 */
export async function listAllBatches<B>(
  pageSize: number,
  fetchPage: (from: number, size: number) => Promise<BatchPage<B>>,
): Promise<B[]> {
  const all: B[] = []
  for (let from = 0; ; from += pageSize) {
    const page = await fetchPage(from, pageSize)
    all.push(...page.sessions)
    if (page.sessions.length < pageSize || all.length >= page.total) break
  }
  return all
}

/**
 * The statuses of many refs from one list of every batch, by batchKey; no list call for
 * no refs. Several jobs can hold the same id (a restart without recovery numbers batches
 * from 0 again): `isOurs` tells, by the name, which batch is a ref's.
 */
export async function statusesFromList<B extends { id: number }>(
  refs: BackendRef[],
  listAll: () => Promise<B[]>,
  isOurs: (batch: B, ref: BackendRef) => boolean,
  toStatus: (batch: B) => BatchStatus,
): Promise<Map<string, BatchStatus>> {
  const result = new Map<string, BatchStatus>()
  if (refs.length === 0) return result
  const wanted = new Map<string, BackendRef[]>()
  for (const r of refs) {
    const same = wanted.get(r.batchId)
    if (same) same.push(r)
    else wanted.set(r.batchId, [r])
  }
  for (const batch of await listAll())
    for (const ref of wanted.get(String(batch.id)) ?? [])
      if (isOurs(batch, ref)) result.set(batchKey(ref), toStatus(batch))
  return result
}
