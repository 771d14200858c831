/**
 * The Python package the training and scoring jobs run (jobs/sparkgate_jobs/), shipped to
 * Spark as one zip with `--py-files` beside the entry point (jobs/train.py, score.py).
 *
 * The zip is deterministic, so it is staged once per content like the scripts: entries in
 * path order, a fixed timestamp (1980-01-01 00:00, the earliest a zip can say), fixed
 * permissions, no extra fields, STORED (uncompressed: a few dozen kB, and nothing to vary
 * between zlib versions). Only `*.py` files go in: a developer's `__pycache__` or editor
 * files do not change the bytes. Python's zipimport reads it from `sys.path`.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { crc32 } from 'node:zlib'
import type { FileStore } from '../storage/file-store.js'

export const JOB_PACKAGE_DIR = fileURLToPath(new URL('../../jobs/sparkgate_jobs', import.meta.url))
/** The zip's file name under artifacts/<sha256>/ (its top folder is the package's name). */
export const JOB_PACKAGE_NAME = 'sparkgate_jobs.zip'

export interface ZipEntry {
  /** the path inside the zip, `/`-separated */
  name: string
  data: Buffer
}

/** The `*.py` files under `dir`, named `<prefix>/<path>`, in code-unit order of the name. */
export async function pythonFiles(dir: string, prefix: string): Promise<ZipEntry[]> {
  const entries: ZipEntry[] = []
  for (const d of await readdir(dir, { withFileTypes: true })) {
    const name = `${prefix}/${d.name}`
    if (d.isDirectory() && d.name !== '__pycache__') {
      entries.push(...(await pythonFiles(join(dir, d.name), name)))
    } else if (d.isFile() && d.name.endsWith('.py')) {
      entries.push({ name, data: await readFile(join(dir, d.name)) })
    }
  }
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

const DOS_DATE = (0 << 9) | (1 << 5) | 1 // 1980-01-01
const DOS_TIME = 0
const VERSION = 10 // 1.0: stored entries need nothing newer
const MADE_BY = (3 << 8) | 20 // Unix, 2.0: the external attributes carry a mode
const MODE = 0o100644 << 16 // a regular file, rw-r--r--
const UTF8_NAMES = 0x0800

/** A STORED zip of `entries`, in their order; the same entries always give the same bytes. */
export function storedZip(entries: ZipEntry[]): Buffer {
  if (entries.length > 0xffff) throw new Error('a zip without zip64 holds 65535 entries')
  const locals: Buffer[] = []
  const centrals: Buffer[] = []
  let offset = 0
  for (const { name, data } of entries) {
    const path = Buffer.from(name, 'utf8')
    const crc = crc32(data)
    const local = Buffer.alloc(30)
    local.writeUInt32LE(0x04034b50, 0)
    local.writeUInt16LE(VERSION, 4)
    local.writeUInt16LE(UTF8_NAMES, 6)
    local.writeUInt16LE(0, 8) // STORED
    local.writeUInt16LE(DOS_TIME, 10)
    local.writeUInt16LE(DOS_DATE, 12)
    local.writeUInt32LE(crc, 14)
    local.writeUInt32LE(data.length, 18)
    local.writeUInt32LE(data.length, 22)
    local.writeUInt16LE(path.length, 26)
    local.writeUInt16LE(0, 28) // no extra field
    const central = Buffer.alloc(46)
    central.writeUInt32LE(0x02014b50, 0)
    central.writeUInt16LE(MADE_BY, 4)
    local.copy(central, 6, 4, 28) // version needed … name length: as in the local header
    // extra, comment, disk number, internal attributes: 0 (Buffer.alloc zero-fills)
    central.writeUInt32LE(MODE >>> 0, 38)
    central.writeUInt32LE(offset, 42)
    locals.push(local, path, data)
    centrals.push(central, path)
    offset += local.length + path.length + data.length
    if (offset > 0xffffffff) throw new Error('a zip without zip64 holds 4 GiB')
  }
  const directory = Buffer.concat(centrals)
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(entries.length, 8)
  end.writeUInt16LE(entries.length, 10)
  end.writeUInt32LE(directory.length, 12)
  end.writeUInt32LE(offset, 16)
  return Buffer.concat([...locals, directory, end])
}

/** The zip of jobs/sparkgate_jobs/ (or of another package folder, for tests). */
export async function jobPackage(dir = JOB_PACKAGE_DIR, name = 'sparkgate_jobs'): Promise<Buffer> {
  return storedZip(await pythonFiles(dir, name))
}

/** Stages the job package's zip once per content; returns its URI for `pyFiles`. */
export async function stageJobPackage(staging: FileStore): Promise<string> {
  return staging.artifactBytes(await jobPackage(), JOB_PACKAGE_NAME)
}
