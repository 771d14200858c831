/**
 * The last lines of an application's log worth keeping in a failed job's error, read
 * through an adapter's paged logs(): one call for the total, one for the tail.
 */
import type { BackendRef } from '../domain/job-schema.js'
import type { LogPage } from '../domain/ports/spark-backend.js'

type Pager = (ref: BackendRef, from: number, size: number) => Promise<LogPage>

export async function tailOf(
  logs: Pager,
  ref: BackendRef,
  size: number,
  keep: (line: string) => boolean = (l) => l.trim() !== '',
): Promise<string[]> {
  if (size === 0) return []
  const head = await logs(ref, 0, 0)
  const page = await logs(ref, Math.max(0, head.total - size), size)
  return page.lines.filter(keep)
}
