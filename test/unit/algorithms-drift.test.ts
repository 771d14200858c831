/**
 * The gateway's MLlib allow-list (src/training/algorithms.ts) and the training job's
 * table (jobs/train.py's ALGORITHMS) must name the same algorithms with the same tasks.
 * No services and no Python: train.py is read as text.
 *
 * jobs/tests/algorithms.json is the TS table as JSON, for pytest
 * (jobs/tests/test_algorithms.py checks every param against the pyspark estimators).
 * The second test keeps that file equal to the TS table; regenerate it, from the
 * repository's root, with:
 *
 *   npx tsx -e "import('./src/kinds/training/algorithms.ts').then(m=>process.stdout.write(JSON.stringify(m.ALGORITHMS)))" | npx prettier --stdin-filepath jobs/tests/algorithms.json > jobs/tests/algorithms.json
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { ALGORITHMS } from '../../src/kinds/training/algorithms.js'

const TRAIN_PY = fileURLToPath(new URL('../../jobs/train.py', import.meta.url))
const JSON_EXPORT = fileURLToPath(new URL('../../jobs/tests/algorithms.json', import.meta.url))
const REGENERATE =
  'npx tsx -e "import(\'./src/kinds/training/algorithms.ts\').then(m=>process.stdout.write(JSON.stringify(m.ALGORITHMS)))"' +
  ' | npx prettier --stdin-filepath jobs/tests/algorithms.json > jobs/tests/algorithms.json'

/** `"name": ("task", module.Class),` — one entry of train.py's ALGORITHMS dict. */
const ENTRY = /^"([A-Za-z0-9_]+)":\s*\(\s*"([a-z]+)",\s*([A-Za-z_][\w.]*)\s*\),?$/

/** train.py's ALGORITHMS as name → task, the lines it could not read, and duplicated names. */
function trainPyTable(source: string) {
  const block = /^ALGORITHMS\b[^\n=]*=\s*\{\n([\s\S]*?)^\}/m.exec(source)
  const tasks = new Map<string, string>()
  const unparsed: string[] = []
  const duplicates: string[] = []
  for (const raw of block?.[1]?.split('\n') ?? []) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = ENTRY.exec(line)
    if (!m) {
      unparsed.push(line)
      continue
    }
    if (tasks.has(m[1]!)) duplicates.push(m[1]!)
    tasks.set(m[1]!, m[2]!)
  }
  return { found: block !== null, tasks, unparsed, duplicates }
}

t.test('jobs/train.py has the algorithms of algorithms.ts, with their tasks', async (t) => {
  const py = trainPyTable(readFileSync(TRAIN_PY, 'utf8'))
  t.ok(py.found, 'jobs/train.py has a top-level `ALGORITHMS ... = {` ... `}` block')
  t.strictSame(
    py.unparsed,
    [],
    'every line of train.py ALGORITHMS reads as `"name": ("task", module.Class),` (one per line)',
  )
  t.strictSame(py.duplicates, [], 'no algorithm is named twice in train.py')
  t.ok(py.tasks.size > 0, 'train.py ALGORITHMS is not empty')

  const ts = new Map(Object.entries(ALGORITHMS).map(([name, a]) => [name, a.task as string]))
  t.strictSame(
    [...ts.keys()].filter((n) => !py.tasks.has(n)).sort(),
    [],
    'no algorithm of algorithms.ts is missing from jobs/train.py ALGORITHMS',
  )
  t.strictSame(
    [...py.tasks.keys()].filter((n) => !ts.has(n)).sort(),
    [],
    'no algorithm of jobs/train.py ALGORITHMS is missing from algorithms.ts',
  )
  for (const [name, task] of ts) {
    if (py.tasks.has(name))
      t.equal(py.tasks.get(name), task, `${name}: train.py's task is algorithms.ts's task`)
  }
})

t.test('jobs/tests/algorithms.json is algorithms.ts ALGORITHMS, as JSON', async (t) => {
  let exported: unknown
  try {
    exported = JSON.parse(readFileSync(JSON_EXPORT, 'utf8'))
  } catch (error) {
    t.fail(`cannot read jobs/tests/algorithms.json (${String(error)}); regenerate: ${REGENERATE}`)
    return
  }
  t.strictSame(
    exported,
    JSON.parse(JSON.stringify(ALGORITHMS)),
    `jobs/tests/algorithms.json equals ALGORITHMS (when stale, regenerate it from the repository's root: ${REGENERATE})`,
  )
})
