/** A run's plots as its result lists them (src/schemas/plots.ts): only names it may serve. */
import t from 'tap'
import { PLOT_NAME, plotsOf } from '../../src/schemas/plots.js'

t.test('plotsOf keeps well-formed entries, a title defaulting to the name', async (t) => {
  t.same(
    plotsOf({
      plots: [
        { name: 'roc', title: 'ROC curve (test split, 80 rows)' },
        { name: 'confusion-matrix' },
        { name: '../metrics', title: 'a path, not a name' },
        { name: 'Roc' },
        { title: 'no name' },
        null,
        'pr',
      ],
    }),
    [
      { name: 'roc', title: 'ROC curve (test split, 80 rows)' },
      { name: 'confusion-matrix', title: 'confusion-matrix' },
    ],
  )
  t.same(plotsOf({}), [], 'a run from before plots lists none')
  t.same(plotsOf({ plots: 'roc' }), [])
})

t.test('a plot name is lower-case words joined by single hyphens', async (t) => {
  for (const ok of ['roc', 'pr', 'roc-per-class', 'confusion-matrix-normalized', 'a1'])
    t.ok(PLOT_NAME.test(ok), ok)
  for (const bad of ['', '-roc', 'roc-', 'roc--x', 'ROC', 'roc.png', 'a/b', '..', 'roc x'])
    t.notOk(PLOT_NAME.test(bad), JSON.stringify(bad))
})
