/** A run's figures as results and GET /v1/jobs/{id}/result/plots show them. */
import { Type, type Static } from 'typebox'

/** What a plot's name may be (plots.py's names: lower-case words joined by hyphens). */
export const PLOT_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/

/** One figure of a run, as its result lists it. */
export interface RunPlot {
  name: string
  title: string
}

/**
 * The figures a run's result file (metrics.json, scoring.json) lists as `plots`:
 * [{name, title}]; [] for a run that drew none (one from before plots).
 */
export function plotsOf(result: Record<string, unknown>): RunPlot[] {
  const plots = result['plots']
  if (!Array.isArray(plots)) return []
  return plots.flatMap((p: unknown) => {
    const { name, title } = (p ?? {}) as { name?: unknown; title?: unknown }
    return typeof name === 'string' && PLOT_NAME.test(name)
      ? [{ name, title: typeof title === 'string' ? title : name }]
      : []
  })
}

/** One figure as a run's result lists it (metrics.json, scoring.json). */
export const RunPlotSchema = Type.Object({
  name: Type.String({
    pattern: PLOT_NAME.source,
    description: 'roc, pr, calibration, confusion-matrix, … (GET …/result/plots/{name})',
  }),
  title: Type.String({ description: 'What the figure shows, as its title says.' }),
})

/** A result's `plots`. */
export const RunPlots = Type.Array(RunPlotSchema, {
  description:
    'The PNG figures the run drew (640 × 480), by name: GET /v1/jobs/{id}/result/plots/{name}.',
})

/** GET /v1/jobs/{id}/result/plots. */
export const PlotListSchema = Type.Object(
  {
    jobId: Type.String(),
    plots: Type.Array(
      Type.Object({
        ...RunPlotSchema.properties,
        contentType: Type.Literal('image/png'),
        href: Type.String({ description: 'Where the PNG is served (this API, relative).' }),
      }),
    ),
  },
  { description: "The run's figures, each a PNG served at its href." },
)
export type PlotList = Static<typeof PlotListSchema>
