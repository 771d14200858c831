/**
 * The gateway's MLlib allow-list (src/kinds/training/algorithms.ts) and the training job's
 * table (ALGORITHMS in jobs/sparkgate_jobs/algorithms.py) must name the same algorithms
 * with the same tasks. No services and no Python: algorithms.py is read as text.
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

const ALGORITHMS_PY = fileURLToPath(
  new URL('../../jobs/sparkgate_jobs/algorithms.py', import.meta.url),
)
const JSON_EXPORT = fileURLToPath(new URL('../../jobs/tests/algorithms.json', import.meta.url))
const REGENERATE =
  'npx tsx -e "import(\'./src/kinds/training/algorithms.ts\').then(m=>process.stdout.write(JSON.stringify(m.ALGORITHMS)))"' +
  ' | npx prettier --stdin-filepath jobs/tests/algorithms.json > jobs/tests/algorithms.json'

/** `"name": ("task", module.Class),` — one entry of algorithms.py's ALGORITHMS dict. */
const ENTRY = /^"([A-Za-z0-9_]+)":\s*\(\s*"([a-z]+)",\s*([A-Za-z_][\w.]*)\s*\),?$/

/** algorithms.py's ALGORITHMS as name → task, the lines it could not read, and duplicated names. */
function algorithmsTable(source: string) {
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

t.test(
  'jobs/sparkgate_jobs/algorithms.py has the algorithms of algorithms.ts, with their tasks',
  async (t) => {
    const py = algorithmsTable(readFileSync(ALGORITHMS_PY, 'utf8'))
    t.ok(py.found, 'algorithms.py has a top-level `ALGORITHMS ... = {` ... `}` block')
    t.strictSame(
      py.unparsed,
      [],
      'every line of algorithms.py ALGORITHMS reads as `"name": ("task", module.Class),` (one per line)',
    )
    t.strictSame(py.duplicates, [], 'no algorithm is named twice in algorithms.py')
    t.ok(py.tasks.size > 0, 'algorithms.py ALGORITHMS is not empty')

    const ts = new Map(Object.entries(ALGORITHMS).map(([name, a]) => [name, a.task as string]))
    t.strictSame(
      [...ts.keys()].filter((n) => !py.tasks.has(n)).sort(),
      [],
      'no algorithm of algorithms.ts is missing from algorithms.py ALGORITHMS',
    )
    t.strictSame(
      [...py.tasks.keys()].filter((n) => !ts.has(n)).sort(),
      [],
      'no algorithm of algorithms.py ALGORITHMS is missing from algorithms.ts',
    )
    for (const [name, task] of ts) {
      if (py.tasks.has(name))
        t.equal(py.tasks.get(name), task, `${name}: algorithms.py's task is algorithms.ts's task`)
    }
  },
)

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
