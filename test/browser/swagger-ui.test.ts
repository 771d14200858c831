/**
 * Swagger UI at /docs, used in a real headless Chromium (Debian's `chromium`, driven by
 * playwright-core; no browser is ever downloaded) the way a person would: the page is
 * Sparkgate's, Authorize takes a tenant member key, a CSV is uploaded with "Try it out"
 * (201), a declarative training job on it is queued (202). Full-page screenshots go to
 * <state>/test-output/swagger-ui/ (<state> = $STACK_DIR or <repo>/.stack, as test.sh).
 *
 * The gateway runs the api role only: the job is accepted and queued, never submitted, so
 * the test neither waits for nor holds Spark; it is cancelled at the end.
 */
import { accessSync, constants } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { delimiter, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type Locator, type Page } from 'playwright-core'
import t, { type Test } from 'tap'
import { build, hdfsClient, hdfsTestDir, tenantOf } from '../helpers/stack.js'

const REPO = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const OUT = join(process.env['STACK_DIR'] || join(REPO, '.stack'), 'test-output', 'swagger-ui')

/** Wait of one UI step: generous, but bounded. */
const STEP_MS = 30_000
/** Wait for a live response (an upload goes through WebHDFS). */
const RESPONSE_MS = 60_000

const DATASET_NAME = 'churn-small.csv'
// a small binary-classification table: churned follows tenure and charges, with some noise
const CSV = [
  'tenure_months,monthly_charges,contract,churned',
  ...Array.from({ length: 40 }, (_, i) => {
    const tenure = 1 + ((i * 7) % 60)
    const charges = 20 + ((i * 13) % 90)
    const contract = ['monthly', 'yearly', 'two_year'][i % 3]
    const churned = (tenure < 20 && charges > 60) || i % 11 === 0 ? 1 : 0
    return `${tenure},${charges},${contract},${churned}`
  }),
].join('\n')

/** `command -v chromium`, then Debian's path; undefined when there is none. */
function findChromium(): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter(Boolean)
  for (const candidate of [...dirs.map((d) => join(d, 'chromium')), '/usr/bin/chromium']) {
    try {
      accessSync(candidate, constants.X_OK)
      return candidate
    } catch {
      // not here
    }
  }
  return undefined
}

const executablePath = findChromium()

/** Opens an operation and presses "Try it out". */
async function tryItOut(page: Page, opId: string) {
  const op = page.locator(`#${opId}`)
  await op.locator('.opblock-summary').first().click()
  await op.locator('button.try-out__btn').click()
  await op.locator('button.execute').waitFor()
  return op
}

/** The status and body Swagger UI shows as an operation's live (server) response. */
async function liveResponse(op: Locator) {
  const row = op.locator('.responses-wrapper .live-responses-table .response').first()
  await row.waitFor({ timeout: RESPONSE_MS })
  const status = (await row.locator('.response-col_status').innerText()).trim()
  const body = row.locator('.response-col_description .highlight-code pre').first()
  return { status, text: await body.innerText() }
}

async function screenshot(t: Test, page: Page, file: string) {
  const path = join(OUT, file)
  await page.screenshot({ path, fullPage: true })
  t.comment(`screenshot: ${path}`)
}

/** What a person does on /docs; returns the ids the live responses showed. */
async function useTheUi(t: Test, page: Page, base: string, key: string, csvFile: string) {
  // 1. the page is Sparkgate's, not a generic Swagger UI
  const docs = await page.goto(`${base}/docs`)
  t.equal(docs?.status(), 200, 'GET /docs')
  const heading = page.locator('.information-container .info .title').first()
  await heading.waitFor()
  await page.locator('.opblock').first().waitFor()
  const title = await page.title()
  t.match(title, /Sparkgate/, 'the tab title says Sparkgate')
  t.notMatch(title, /Swagger UI/, 'not the generic "Swagger UI" title')
  t.match(await heading.innerText(), /Sparkgate/, 'the heading says Sparkgate')
  const logo = page.locator('#swagger-ui .topbar-wrapper a.link img')
  await logo.waitFor()
  const src = (await logo.getAttribute('src')) ?? ''
  const svg = 'data:image/svg+xml;base64,'
  t.ok(src.startsWith(svg), 'the top bar shows an SVG logo')
  t.match(
    Buffer.from(src.slice(svg.length), 'base64').toString('utf8'),
    />Sparkgate</,
    "the top bar's logo is the Sparkgate wordmark",
  )
  t.equal(
    await page.locator('#swagger-ui .topbar-wrapper a.link svg').count(),
    0,
    'no generic Swagger logo left in the top bar',
  )
  const favicon = await page.locator('head link[rel="icon"]').first().getAttribute('href')
  t.match(favicon, /\/theme\/favicon\.svg$/, 'the favicon is Sparkgate’s')
  await screenshot(t, page, 'swagger-ui.png')

  // 2. Authorize with the tenant's member key
  await page.locator('.scheme-container button.authorize').click()
  const modal = page.locator('.dialog-ux .modal-ux')
  await modal.waitFor()
  // the bearer scheme's form (the Livy API's Basic one is beside it)
  const bearerForm = modal.locator('form').filter({ hasText: 'apiKey (http, Bearer)' })
  await bearerForm.locator('input').first().fill(key)
  await bearerForm.locator('.auth-btn-wrapper button.authorize').click()
  // authorized: the key is masked and the button turns into "Logout"
  await bearerForm.locator('.auth-btn-wrapper button', { hasText: 'Logout' }).waitFor()
  await bearerForm.locator('.auth-btn-wrapper button.btn-done').click()
  await modal.waitFor({ state: 'detached' })
  t.pass('authorized with the member key')

  // 3. POST /v1/datasets: the name, and the CSV from the body's file picker
  const upload = await tryItOut(page, 'operations-datasets-uploadDataset')
  await upload.locator('tr[data-param-name="name"] input').fill(DATASET_NAME)
  await upload.locator('.opblock-section-request-body input[type="file"]').setInputFiles(csvFile)
  await upload.locator('button.execute').click()
  const uploaded = await liveResponse(upload)
  t.equal(uploaded.status, '201', 'the upload answers 201 in the live response')
  const dataset = JSON.parse(uploaded.text) as { id: string; name: string }
  t.match(dataset.id, /^[0-9a-f]{64}$/, 'the live response shows the dataset id')
  t.equal(dataset.name, DATASET_NAME, 'named as given')

  // 4. POST /v1/jobs: a declarative training job on that dataset
  const create = await tryItOut(page, 'operations-jobs-createJob')
  const spec = {
    name: 'swagger-ui-churn',
    training: {
      dataset: dataset.id,
      label: 'churned',
      features: ['tenure_months', 'monthly_charges', 'contract'],
      algorithm: 'logistic_regression',
      split: { test: 0.25, seed: 7 },
    },
  }
  const body = create.locator('.opblock-section-request-body textarea')
  await body.fill(JSON.stringify(spec, null, 2))
  await create.locator('button.execute').click()
  const queued = await liveResponse(create)
  t.equal(queued.status, '202', `the job is accepted: 202 (${queued.text.slice(0, 300)})`)
  const job = JSON.parse(queued.text) as { id: string }
  await create.locator('.live-responses-table').scrollIntoViewIfNeeded()
  await screenshot(t, page, 'swagger-ui-job-202.png')
  return { dataset: dataset.id, job: job.id }
}

t.test(
  'Swagger UI in Chromium: Sparkgate branding, Authorize, upload a CSV, queue a training job',
  { skip: executablePath ? false : 'no chromium executable (the stack installs `chromium`)' },
  async (t) => {
    const started = Date.now()
    const dir = await hdfsTestDir(t, hdfsClient())
    const app = await build(t, { SPARKGATE_HDFS_ROOT: dir, SPARKGATE_ROLES: 'api' })
    const { key } = tenantOf(app)
    await app.listen({ host: '127.0.0.1', port: 0 })
    const address = app.server.address()
    if (!address || typeof address === 'string') throw new Error('no TCP address')
    const base = `http://127.0.0.1:${address.port}`

    await mkdir(OUT, { recursive: true })
    const tmp = await mkdtemp(join(tmpdir(), 'sparkgate-swagger-ui-'))
    t.teardown(() => rm(tmp, { recursive: true, force: true }))
    const csvFile = join(tmp, DATASET_NAME)
    await writeFile(csvFile, CSV)

    const browser = await chromium.launch({
      executablePath: executablePath!,
      args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
      timeout: STEP_MS,
    })
    t.teardown(() => browser.close())
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(STEP_MS)
    const pageErrors: string[] = []
    page.on('pageerror', (e) => pageErrors.push(e.message))

    let ids: { dataset: string; job: string }
    try {
      ids = await useTheUi(t, page, base, key, csvFile)
    } catch (error) {
      // a step that failed leaves a picture of the page behind
      const failed = join(OUT, 'swagger-ui-failure.png')
      await page.screenshot({ path: failed, fullPage: true }).catch(() => undefined)
      t.comment(`screenshot of the failure: ${failed}`)
      throw error
    }
    t.same(pageErrors, [], 'no script error on the page')
    t.comment(`gateway + browser: ${((Date.now() - started) / 1000).toFixed(1)} s`)

    // what the browser did, seen through the API with the same key
    const headers = { authorization: `Bearer ${key}` }
    const got = await fetch(`${base}/v1/datasets/${ids.dataset}`, { headers })
    t.equal(got.status, 200, 'the dataset exists')
    t.equal(((await got.json()) as { name: string }).name, DATASET_NAME, 'under its name')
    const read = await fetch(`${base}/v1/jobs/${ids.job}`, { headers })
    t.equal(read.status, 200, 'the job exists')
    const job = (await read.json()) as { state: string; spec: { training?: { dataset: unknown } } }
    t.equal(job.state, 'queued', 'it is queued (api role only: nothing goes to Spark)')
    t.equal(job.spec.training?.dataset, ids.dataset, 'it trains on the uploaded dataset')
    const cancel = await fetch(`${base}/v1/jobs/${ids.job}`, { method: 'DELETE', headers })
    t.equal(cancel.status, 200, 'and it is cancelled (DELETE /v1/jobs/{id})')
  },
)
