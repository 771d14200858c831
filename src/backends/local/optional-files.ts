/**
 * Reads of a batch folder's files where "absent" is an answer (not started, not ended)
 * and any other error is a transient fault that must not read as one.
 */
import type { Stats } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import { BackendError } from '../../domain/ports/spark-backend.js'

/** The errno code of a file system error. */
export const code = (error: unknown) => (error as NodeJS.ErrnoException).code

/** Absent (ENOENT, ENOTDIR) is an answer; any other error is not, and must not read as one. */
export function absent<T>(error: unknown, path: string): T | undefined {
  if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return undefined
  throw new BackendError('transient', `cannot read ${path}: ${(error as Error).message}`)
}

/** A file's text, trimmed, or undefined when it is not there. */
export async function readOptional(path: string): Promise<string | undefined> {
  try {
    return (await readFile(path, 'utf8')).trim()
  } catch (error) {
    return absent(error, path)
  }
}

/** A file's stat, or undefined when it is not there. */
export async function statOptional(path: string): Promise<Stats | undefined> {
  try {
    return await stat(path)
  } catch (error) {
    return absent(error, path)
  }
}
