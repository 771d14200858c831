/**
 * What Sparkgate tells from a dataset's name and its first bytes: the format (by
 * extension) and, for CSV, the columns of the header line with types sniffed from the
 * rows that follow within those bytes.
 */
import type { Column, DatasetFormat } from './dataset-schema.js'

/** How much of the head an upload keeps for sniffing. */
export { SNIFF_BYTES } from '../storage/upload-stream.js'
const SNIFF_ROWS = 200

const EXTENSIONS: Record<string, DatasetFormat> = {
  csv: 'csv',
  json: 'json',
  jsonl: 'json',
  ndjson: 'json',
  parquet: 'parquet',
  libsvm: 'libsvm',
  svm: 'libsvm',
  txt: 'txt',
  text: 'txt',
}

export function formatOf(name: string): DatasetFormat {
  const dot = name.lastIndexOf('.')
  return (dot > 0 && EXTENSIONS[name.slice(dot + 1).toLowerCase()]) || 'other'
}

/** One CSV line into fields (RFC 4180 quotes; no embedded newlines). */
export function splitCsvLine(line: string, separator = ','): string[] {
  const fields: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"'
        i++
      } else if (c === '"') quoted = false
      else field += c
    } else if (c === '"' && field === '') quoted = true
    else if (c === separator) {
      fields.push(field)
      field = ''
    } else field += c
  }
  fields.push(field)
  return fields
}

/** Complete lines of a head buffer (a last line cut by the buffer's end is dropped). */
export function headLines(head: Buffer, complete: boolean): string[] {
  let text = head.toString('utf8').replace(/^\uFEFF/, '')
  if (!complete) {
    const end = text.lastIndexOf('\n')
    text = end >= 0 ? text.slice(0, end).replace(/\r$/, '') : ''
  }
  return text.split(/\r?\n/).filter((l, i, all) => l !== '' || i < all.length - 1)
}

const NULLS = new Set(['', 'null', 'NULL', 'NA', 'N/A', 'nan', 'NaN'])

function typeOf(values: string[]): Column['type'] {
  const present = values.filter((v) => !NULLS.has(v.trim()))
  if (present.length === 0) return 'string'
  if (present.every((v) => /^[+-]?\d{1,18}$/.test(v.trim()))) return 'integer'
  if (present.every((v) => /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v.trim())))
    return 'double'
  if (present.every((v) => /^(true|false)$/i.test(v.trim()))) return 'boolean'
  return 'string'
}

/** Columns of a CSV head: names from the header line, types from the rows after it. */
export function sniffCsv(head: Buffer, complete: boolean): Column[] | undefined {
  const lines = headLines(head, complete).filter((l) => l.trim() !== '')
  const header = lines[0]
  if (header === undefined) return undefined
  const names = splitCsvLine(header).map((n, i) => n.trim() || `_c${i}`)
  const rows = lines.slice(1, 1 + SNIFF_ROWS).map((l) => splitCsvLine(l))
  return names.map((name, i) => ({ name, type: typeOf(rows.map((r) => r[i] ?? '')) }))
}
