/**
 * A job's evaluation plots over the API, checked as real images: listed by
 * GET /v1/jobs/{id}/result/plots, each served as image/png that decodes (pngjs), is 640 ×
 * 480 and is not blank (its pixels are of more than a few colours).
 */
import { PNG } from 'pngjs'
import type { Test } from 'tap'
import type { App } from '../../src/app.js'

/** Distinct RGBA colours of a decoded image (a blank figure has one or two). */
export function colours(png: PNG): number {
  const seen = new Set<number>()
  for (let i = 0; i < png.data.length; i += 4) seen.add(png.data.readUInt32BE(i))
  return seen.size
}

/** Lists the job's plots, fetches each and checks it is a real figure; their names. */
export async function checkPlots(t: Test, app: App, jobId: string, expected: string[]) {
  const list = await app.inject({ method: 'GET', url: `/v1/jobs/${jobId}/result/plots` })
  t.equal(list.statusCode, 200, list.body)
  const { plots } = list.json<{ plots: { name: string; title: string; href: string }[] }>()
  t.same(
    plots.map((p) => p.name),
    expected,
    `plots of ${jobId}`,
  )
  for (const plot of plots) {
    t.equal(plot.href, `/v1/jobs/${jobId}/result/plots/${plot.name}`)
    const r = await app.inject({ method: 'GET', url: plot.href })
    t.equal(r.statusCode, 200, `${plot.name}: served`)
    t.equal(r.headers['content-type'], 'image/png', `${plot.name}: image/png`)
    const png = PNG.sync.read(r.rawPayload)
    t.same([png.width, png.height], [640, 480], `${plot.name}: 640 × 480`)
    t.ok(colours(png) > 16, `${plot.name}: not blank (${colours(png)} colours)`)
  }
  return plots
}
