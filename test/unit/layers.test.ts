/**
 * Imports point down: each part of src/ may import only from the parts below it, or from
 * its own folder. The layers, lowest first (docs/architecture.md draws them):
 *
 *   0 schemas/ client/             shared TypeBox schemas; the typed client (its types generated
 *                                  from the OpenAPI document)
 *   1 errors.ts cluster-auth/      the error catalogue (its problem+json mapper is in plugins/);
 *                                  a cluster's credentials: Basic, Kerberos (SPNEGO), a private CA
 *   2 redis/ storage/ mlflow/      key names, Lua scripts, paging; the WebHDFS client; the
 *                                  MLflow REST client and its settings
 *   3 datasets/ tenancy/ events/   dataset records, inputs, staging, sniffing; tenants, keys,
 *     webhooks/                    policy, audit; the event log, SSE, the Kafka sink; webhooks
 *   4 models/ runs/                the model registry port and its two adapters; a job's run
 *                                  folder and Sparkgate's own PySpark job files
 *   5 domain/                      the job core and its ports (ports/: backend, queue, job kind)
 *   6 kinds/ backends/ workers/    job kinds (one folder each); backend kinds (one folder each);
 *     engines/                     BullMQ: the submit worker and the tracker; warm engines
 *   7 config.ts                    the one config schema (with each backend kind's variables)
 *   8 plugins/ routes/ server-options.ts
 *   9 app.ts
 *  10 server.ts tools/ cli/        the entry points: the gateway, npm run openapi, sparkgate
 *
 * Two parts on the same layer do not import each other (kinds/ ↔ backends/ ↔ workers/,
 * plugins/ ↔ routes/): the job core (domain/, workers/) imports no job kind. A job kind
 * imports no other kind's folder, and a backend kind no other backend kind's. No file in
 * src/ passes 400 lines, but the generated client.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import t from 'tap'

const SRC = 'src'

const LAYERS: [string, number][] = [
  ['schemas/', 0],
  ['client/', 0],
  ['errors.ts', 1],
  ['cluster-auth/', 1],
  ['redis/', 2],
  ['storage/', 2],
  ['mlflow/', 2],
  ['datasets/', 3],
  ['tenancy/', 3],
  ['events/', 3],
  ['webhooks/', 3],
  ['models/', 4],
  ['runs/', 4],
  ['domain/', 5],
  ['kinds/', 6],
  ['backends/', 6],
  ['engines/', 6],
  ['workers/', 6],
  ['config.ts', 7],
  ['plugins/', 8],
  ['routes/', 8],
  ['server-options.ts', 8],
  ['app.ts', 9],
  ['server.ts', 10],
  ['tools/', 10],
  ['cli/', 10],
]

/** The part of src/ a file belongs to (its layer entry) and its layer. */
function partOf(file: string): [string, number] {
  const found = LAYERS.find(([prefix]) => file === prefix || file.startsWith(prefix))
  if (!found)
    throw new Error(`src/${file} is in no layer: add it to LAYERS (and docs/architecture.md)`)
  return found
}

function sourceFiles(): string[] {
  return readdirSync(SRC, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(SRC, join(e.parentPath, e.name)))
}

/** Relative imports of a file (static, type-only and dynamic), as paths under src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), 'utf8')
  const specs = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!)
  return specs.map((s) => normalize(join(dirname(file), s)).replace(/\.js$/, '.ts'))
}

/**
 * The kind folder of a file under backends/ or kinds/, if any (backends/livy/… →
 * backends/livy, kinds/training/… → kinds/training).
 */
function kindOf(file: string): string | undefined {
  const m = /^((?:backends|kinds)\/[^/]+)\//.exec(file)
  return m?.[1]
}

t.test('every import in src/ points down a layer, or stays in its part', async (t) => {
  const files = sourceFiles()
  t.ok(files.length > 40, `${files.length} files read`)
  const wrong: string[] = []
  for (const file of files) {
    const [part, layer] = partOf(file)
    for (const target of importsOf(file)) {
      if (target.startsWith('..')) continue // outside src/ (jobs/train.py, package.json)
      const [targetPart, targetLayer] = partOf(target)
      const ok =
        targetPart === part
          ? kindOf(file) === undefined ||
            kindOf(target) === undefined ||
            kindOf(file) === kindOf(target)
          : targetLayer < layer
      if (!ok)
        wrong.push(`src/${file} (layer ${layer}) imports src/${target} (layer ${targetLayer})`)
    }
  }
  t.same(wrong, [], 'no import runs upward or sideways')
})

t.test('the rule catches an upward import', async (t) => {
  // what the layering once had: the job core reaching into workers/ and backends/
  t.ok(partOf('workers/queues.ts')[1] > partOf('domain/job-service.ts')[1])
  t.ok(partOf('backends/livy/livy-backend.ts')[1] > partOf('domain/job-service.ts')[1])
  t.ok(partOf('kinds/training/spec.ts')[1] > partOf('domain/job-schema.ts')[1])
  t.equal(partOf('kinds/training/index.ts')[1], partOf('workers/tracker.ts')[1])
  t.equal(kindOf('backends/synapse/synapse-backend.ts'), 'backends/synapse')
  t.equal(kindOf('kinds/scoring/index.ts'), 'kinds/scoring')
  t.not(kindOf('kinds/scoring/index.ts'), kindOf('kinds/training/spec.ts'))
  t.equal(kindOf('backends/livy-protocol.ts'), undefined, 'shared backend code is no kind')
  t.equal(kindOf('kinds/registry.ts'), undefined, 'the registry is no kind')
})

t.test('a backend kind is one folder plus one registry line', async (t) => {
  const registry = readFileSync(join(SRC, 'backends/registry.ts'), 'utf8')
  const folders = readdirSync(join(SRC, 'backends'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
  for (const kind of folders) {
    t.match(registry, `from './${kind}/index.js'`, `${kind} is registered`)
    const index = readFileSync(join(SRC, 'backends', kind, 'index.ts'), 'utf8')
    t.match(index, /defineBackendKind\(/, `${kind}/index.ts defines its kind`)
  }
  // nothing outside backends/ names a kind
  for (const file of sourceFiles().filter((f) => !f.startsWith('backends/'))) {
    const text = readFileSync(join(SRC, file), 'utf8')
    t.notMatch(text, /kind === '(livy|local|synapse)'/, `src/${file} has no kind switch`)
  }
})

t.test('a job kind is one folder plus one registry line', async (t) => {
  const registry = readFileSync(join(SRC, 'kinds/registry.ts'), 'utf8')
  const folders = readdirSync(join(SRC, 'kinds'), { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
  t.ok(folders.length >= 3, folders.join(', '))
  for (const kind of folders) {
    t.match(registry, `from './${kind}/index.js'`, `${kind} is registered`)
    const index = readFileSync(join(SRC, 'kinds', kind, 'index.ts'), 'utf8')
    t.match(index, /defineJobKind(<[^>]+>)?\(/, `${kind}/index.ts defines its kind`)
  }
  // the job core names no kind: no import of kinds/ (the layer rule), and no kind's spec field
  for (const file of sourceFiles().filter((f) => /^(domain|workers)\//.test(f))) {
    const text = readFileSync(join(SRC, file), 'utf8')
    t.notMatch(text, /spec\.(batch|training|scoring)\b/, `src/${file} reads no kind's spec`)
  }
})

/** The only file allowed past the line limit: generated from the OpenAPI document. */
const GENERATED = new Set(['client/api.ts'])
const MAX_LINES = 400

t.test(`no file in src/ passes ${MAX_LINES} lines (but the generated client)`, async (t) => {
  const long = sourceFiles()
    .filter((f) => !GENERATED.has(f))
    .map((f) => [f, readFileSync(join(SRC, f), 'utf8').split('\n').length - 1] as const)
    .filter(([, lines]) => lines > MAX_LINES)
    .map(([f, lines]) => `src/${f}: ${lines} lines`)
  t.same(long, [], 'split by concern: one class or concern per file')
})

t.test('the rules catch a kind importing a kind, and a long file', async (t) => {
  const crossing = (file: string, target: string) =>
    partOf(file)[0] === partOf(target)[0] &&
    kindOf(file) !== undefined &&
    kindOf(target) !== undefined &&
    kindOf(file) !== kindOf(target)
  t.ok(
    crossing('kinds/scoring/index.ts', 'kinds/training/spec.ts'),
    'scoring → training is refused',
  )
  t.notOk(crossing('kinds/registry.ts', 'kinds/training/index.ts'), 'the registry lists kinds')
  t.ok(partOf('workers/tracker.ts')[0] !== partOf('kinds/training/index.ts')[0], 'tracker ↛ kinds')
})
