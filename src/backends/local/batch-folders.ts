/**
 * How a local batch's folder comes to be: in one rename, so that a folder under a batch
 * name always holds its submission and a retried submit finds either nothing or its
 * batch; and the sweep of what crashed submits left behind.
 */
import { randomUUID } from 'node:crypto'
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { BackendError, type BatchSubmission } from '../../domain/ports/spark-backend.js'
import { code, statOptional } from './optional-files.js'

/** folders of submits under way: never a batch name (a batch name starts alphanumeric) */
const TEMP_PREFIX = '.tmp-'
/** a temp folder this old is a crashed submit's: removed (at most one sweep per 10 min) */
const TEMP_MAX_AGE_MS = 3_600_000
const SWEEP_EVERY_MS = 600_000

/** The batch folders under one workdir: placing a batch, and the sweep of leftovers. */
export class BatchFolders {
  private lastSweep = 0

  constructor(
    private readonly workdir: string,
    /** how old a leftover folder without a submission must be before it is taken over */
    private readonly startGraceMs: number,
  ) {}

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
  async place(batch: BatchSubmission, dir: string) {
    const temp = join(this.workdir, `${TEMP_PREFIX}${randomUUID()}`)
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
    const aside = join(this.workdir, `${TEMP_PREFIX}${randomUUID()}`)
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
  async submitted(dir: string) {
    return (
      (await statOptional(join(dir, 'submission.json'))) !== undefined ||
      (await statOptional(join(dir, 'pid'))) !== undefined
    )
  }

  /** Removes the temp folders of submits that crashed before their rename. */
  async sweep() {
    if (Date.now() - this.lastSweep < SWEEP_EVERY_MS) return
    this.lastSweep = Date.now()
    try {
      for (const entry of await readdir(this.workdir)) {
        if (!entry.startsWith(TEMP_PREFIX)) continue
        const path = join(this.workdir, entry)
        const found = await stat(path).catch(() => undefined)
        if (found && Date.now() - found.mtimeMs > TEMP_MAX_AGE_MS)
          await rm(path, { recursive: true, force: true })
      }
    } catch {
      // housekeeping: the next sweep tries again
    }
  }
}
