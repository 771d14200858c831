/**
 * notebooks/sparkgate-tour.ipynb, the curl tour for data scientists (bash kernel):
 *
 * - statically (no service): stored with no outputs, on the bash kernel, every step there,
 *   code cells a terminal can take (ASCII, no tabs, no `exit`/`set -e` that would end the
 *   kernel's shell);
 * - live: an in-process gateway on a real port, on the real stack (Livy, HDFS, Redis), and a
 *   tenant with the DEFAULT policy, as `npm run demo` makes; nbclient runs the notebook top to
 *   bottom in the stack's venv with SPARKGATE_URL / SPARKGATE_API_KEY set. A cell that ends
 *   with a non-zero status fails the test, with its source and output. The executed copy is
 *   written to .stack/test-output/notebook/, never over the stored notebook.
 *
 * Alone: eval "$(bash docker/local/stack.sh env)" && npx tap test/notebook.test.ts
 */
import { readFile } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { PNG } from 'pngjs'
import t from 'tap'
import { colours } from './helpers/plots.js'
import { cellSource, runNotebook, stackVenv, type Notebook } from './helpers/notebook.js'
import { build, hdfsClient, makeTenant } from './helpers/stack.js'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const STATE = process.env['STACK_DIR'] || join(ROOT, '.stack')
const NOTEBOOK = join(ROOT, 'notebooks', 'sparkgate-tour.ipynb')
const EXECUTED = join(STATE, 'test-output', 'notebook', 'sparkgate-tour.executed.ipynb')
/** A cell that runs longer than this fails (the slowest, a training job, takes ~40 s). */
const CELL_TIMEOUT_S = 300
/** The whole run is stopped after this long (tap gives the file 900 s). */
const RUN_LIMIT_MS = 780_000

const loadNotebook = async () => JSON.parse(await readFile(NOTEBOOK, 'utf8')) as Notebook

t.test('the stored notebook: bash kernel, no outputs, every step of the tour', async (t) => {
  const nb = await loadNotebook()
  t.equal(nb.nbformat, 4, 'nbformat 4')
  t.ok(nb.nbformat_minor >= 5, 'nbformat 4.5+ (cell ids)')
  t.same(
    nb.metadata.kernelspec,
    { name: 'bash', display_name: 'Bash', language: 'bash' },
    'kernelspec: bash',
  )
  t.equal(nb.metadata.language_info?.name, 'bash', 'language_info: bash')

  const code = nb.cells.filter((c) => c.cell_type === 'code')
  const markdown = nb.cells.filter((c) => c.cell_type === 'markdown')
  t.ok(code.length >= 9, `${code.length} code cells`)
  t.ok(markdown.length >= code.length / 2, `${markdown.length} markdown cells explain them`)
  const ids = nb.cells.map((c) => c.id)
  t.equal(new Set(ids).size, ids.length, 'cell ids are unique')
  for (const [i, cell] of code.entries()) {
    const src = cellSource(cell)
    const name = `code cell ${i + 1} (${cell.id})`
    t.same(cell.outputs, [], `${name}: no outputs stored`)
    t.equal(cell.execution_count, null, `${name}: execution_count null`)
    // the bash kernel types each line into an interactive bash: a tab would complete, a
    // non-ASCII byte may be read as a meta key, `exit` or errexit would end the shell
    t.notMatch(src, /\t/, `${name}: no tab`)
    t.ok(/^[\x20-\x7e\n]*$/.test(src), `${name}: ASCII only`)
    t.notMatch(src, /^\s*(exit\b|set -e)/m, `${name}: no exit, no set -e`)
    t.notOk(src.trimEnd().endsWith('\\'), `${name}: no trailing backslash`)
  }

  const all = code.map(cellSource).join('\n')
  const steps: [string, RegExp][] = [
    ['1. setup reads SPARKGATE_URL', /\$\{SPARKGATE_URL:-http:\/\/127\.0\.0\.1:8080\}/],
    ['1. setup needs SPARKGATE_API_KEY and points at npm run demo', /npm run demo/],
    ['1. pipefail', /set -o pipefail/],
    ['1. health', /\/readyz|\/healthz/],
    ['1. who am I', /\/v1\/me\b/],
    [
      '2. upload the CSV',
      /\/v1\/datasets\?name=churn\.csv[\s\S]*\.\.\/jobs\/examples\/data\/churn\.csv/,
    ],
    ['2. preview', /\/preview\?rows=/],
    ['3. training job with a modelName', /training:[\s\S]*label: "churned"[\s\S]*modelName/],
    ['4. SSE with curl -N', /curl -sS -N [\s\S]*-H 'accept: text\/event-stream'/],
    ['4. asserts succeeded', /wait_job "\$JOB1" succeeded/],
    ['5. logs', /\/logs\b/],
    ['5. result', /\/result\b/],
    ['5. plots shown inline', /\/result\/plots\/\$name" \| display/],
    ['5. model', /\/v1\/models\/\$MODEL/],
    ['6. a second algorithm', /random_forest_classifier/],
    ['7. the champion alias', /\/aliases\/champion" -X PUT/],
    ['7. scoring with @champion', /"\$MODEL@champion"[\s\S]*scoring: \{model: \$model/],
    ['7. asserts the scoring job succeeded', /wait_job "\$SCORE_JOB" succeeded/],
    ['7. downloads the output', /\/v1\/jobs\/\$SCORE_JOB\/output/],
    ['8. a PySpark file as dataset://', /line_stats\.py[\s\S]*file: "dataset:\/\//],
    ['9. cancel', /-X DELETE/],
    ['9. asserts cancelled', /wait_job "\$JOB4" cancelled/],
    ['10. a problem with plain curl -sS', /curl -sS -o "\$PROBLEM"/],
    ['10. asserts the problem', /\.code == "SPARKGATE_VALIDATION"/],
  ]
  for (const [step, pattern] of steps) t.match(all, pattern, step)
  const text = markdown.map(cellSource).join('\n')
  for (const word of ['`type`', '`title`', '`status`', '`detail`', '`code`', '`field`', '`rule`'])
    t.match(text, word, `the markdown explains ${word}`)
})

t.test('the notebook runs top to bottom against a live gateway', async (t) => {
  const venv = stackVenv(STATE)
  if ('missing' in venv) {
    t.fail(venv.missing)
    return
  }
  const stored = await readFile(NOTEBOOK, 'utf8')
  const app = await build(t, {}, { tenant: false })
  // the tenant `npm run demo` makes: POST /v1/tenants with no policy (the default one)
  const tenant = await makeTenant(app, 'member', { policy: { uriPrefixes: [] } })
  const hdfs = hdfsClient(app.config)
  t.teardown(() =>
    hdfs.delete(`${app.config.SPARKGATE_HDFS_ROOT}/tenants/${tenant.id}`, true).catch(() => {}),
  )
  await app.listen({ host: '127.0.0.1', port: 0 })
  const url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`

  let stop: (() => void) | undefined
  t.teardown(() => stop?.())
  const run = await runNotebook({
    python: venv.python,
    notebook: NOTEBOOK,
    outPath: EXECUTED,
    env: { SPARKGATE_URL: url, SPARKGATE_API_KEY: tenant.key },
    cellTimeoutSeconds: CELL_TIMEOUT_S,
    limitMs: RUN_LIMIT_MS,
    onSpawn: (kill) => (stop = kill),
  })

  const slowest = [...run.cells]
    .sort((a, b) => (b.seconds ?? 0) - (a.seconds ?? 0))
    .slice(0, 5)
    .map((c) => `${c.id} ${c.seconds ?? '?'} s`)
    .join(', ')
  t.comment(`notebook run time: ${run.seconds.toFixed(1)} s (slowest cells: ${slowest})`)
  t.comment(`executed notebook: ${EXECUTED}`)
  if (run.ok) t.pass(`every cell ran (${run.cells.length} code cells)`)
  else {
    const f = run.failed
    t.fail(
      f
        ? `cell ${f.index + 1} of the notebook (id ${f.id}) failed` +
            `\n--- source\n${f.source}\n--- output\n${f.output.slice(-6000)}` +
            (run.error ? `\n--- ${run.error.slice(0, 2000)}` : '')
        : `the notebook did not run: ${run.error}\n--- stderr\n${run.stderr.slice(-4000)}`,
    )
  }
  t.equal(await readFile(NOTEBOOK, 'utf8'), stored, 'the stored notebook is left as it was')

  // the training's ROC curve and confusion matrix are images in the plots cell's output
  const executed = JSON.parse(await readFile(EXECUTED, 'utf8')) as Notebook
  const outputs = (executed.cells.find((c) => c.id === 'plots')?.outputs ?? []) as {
    output_type: string
    data?: Record<string, string>
  }[]
  const images = outputs.flatMap((o) =>
    o.output_type === 'display_data' && o.data?.['image/png'] ? [o.data['image/png']] : [],
  )
  t.equal(images.length, 2, 'the plots cell shows two images')
  for (const image of images) {
    const png = PNG.sync.read(Buffer.from(image, 'base64'))
    t.same([png.width, png.height], [640, 480], 'a 640 x 480 PNG')
    t.ok(colours(png) > 16, 'not blank')
  }
})
