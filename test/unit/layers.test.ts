/**
 * Imports point down: each part of src/ may import only from the parts below it, or from
 * its own folder. The layers, lowest first (the README's layout section draws them):
 *
 *   0 schemas/ client/             shared TypeBox schemas; the typed client (its types generated
 *                                  from the OpenAPI document)
 *   1 errors.ts                    the error catalogue (its problem+json mapper is in plugins/)
 *   2 redis/ storage/ mlflow/      key names, Lua scripts, paging; the WebHDFS client; the
 *                                  MLflow REST client and its settings
 *   3 datasets/ tenancy/ events/   dataset records, staging, sniffing; tenants, keys, policy, audit;
 *     webhooks/                    the event log, the Kafka sink; webhooks (store, signing,
 *                                  destinations, HTTP delivery, the delivery queue and workers)
 *   4 training/                    training spec and checks, staging, model registry
 *   5 domain/                      the job core and its ports (ports/: backend, queue)
 *   6 backends/ workers/           adapters of the ports: one folder per backend kind; BullMQ
 *   7 config.ts                    the one config schema (with each backend kind's variables)
 *   8 plugins/ routes/ server-options.ts
 *   9 app.ts
 *  10 server.ts tools/ cli/        the entry points: the gateway, npm run openapi, sparkgate
 *
 * Two parts on the same layer do not import each other (backends/ ↔ workers/,
 * plugins/ ↔ routes/). A backend kind imports no other kind's folder.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, normalize, relative } from 'node:path'
import t from 'tap'

const SRC = 'src'

const LAYERS: [string, number][] = [
  ['schemas/', 0],
  ['client/', 0],
  ['errors.ts', 1],
  ['redis/', 2],
  ['storage/', 2],
  ['mlflow/', 2],
  ['datasets/', 3],
  ['tenancy/', 3],
  ['events/', 3],
  ['webhooks/', 3],
  ['training/', 4],
  ['domain/', 5],
  ['backends/', 6],
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
  if (!found) throw new Error(`src/${file} is in no layer: add it to LAYERS (and the README)`)
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

/** The backend kind folder of a file under backends/, if any (backends/livy/… → livy). */
function kindOf(file: string): string | undefined {
  const m = /^backends\/([^/]+)\//.exec(file)
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
  t.ok(partOf('domain/job-schema.ts')[1] > partOf('training/training-spec.ts')[1])
  t.equal(kindOf('backends/synapse/synapse-backend.ts'), 'synapse')
  t.equal(kindOf('backends/livy-protocol.ts'), undefined, 'shared backend code is no kind')
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
