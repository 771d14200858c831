/** Human output of the CLI: tables, sizes, durations. `--json` bypasses all of it. */

/** Columns of plain text, left-aligned, the header underlined by nothing but its place. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)'
  const cells = rows.map((row) => columns.map((c) => cell(row[c])))
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)))
  const line = (values: string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n')
}

/** Key/value lines for one object, nested values as compact JSON. */
export function fields(obj: Record<string, unknown>, keys = Object.keys(obj)): string {
  const present = keys.filter((k) => obj[k] !== undefined && obj[k] !== null)
  const width = Math.max(0, ...present.map((k) => k.length))
  return present.map((k) => `${`${k}:`.padEnd(width + 1)}  ${cell(obj[k])}`).join('\n')
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return '-'
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : round(value)
  if (typeof value === 'string') return value
  if (typeof value === 'boolean') return value ? 'yes' : 'no'
  return JSON.stringify(value)
}

export function round(n: number, digits = 4): string {
  return String(Number(n.toPrecision(digits)))
}

export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return i === 0 ? `${n} B` : `${n.toFixed(1)} ${units[i]}`
}

export function seconds(ms: number): string {
  const s = ms / 1000
  if (s < 60) return `${s.toFixed(1)} s`
  const m = Math.floor(s / 60)
  return `${m} min ${Math.round(s - m * 60)} s`
}
