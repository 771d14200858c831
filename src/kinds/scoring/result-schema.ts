/** GET /v1/jobs/{id}/result of a scoring job: rows scored, its output and the model. */
import { Type, type Static } from 'typebox'
import { RunPlots } from '../../schemas/plots.js'

export const ScoringResultSchema = Type.Object(
  {
    rows: Type.Object({
      scored: Type.Integer({ description: 'Rows written: every row of the dataset.' }),
      withoutPrediction: Type.Integer({
        description: 'Rows missing a numeric feature the model does not impute (null prediction).',
      }),
    }),
    outputUri: Type.String({
      description: 'The folder of the one part file (runs/<jobId>/scored).',
    }),
    format: Type.Union([Type.Literal('parquet'), Type.Literal('csv')]),
    columns: Type.Array(Type.String(), {
      description: 'The input columns, then prediction (and probability).',
    }),
    model: Type.Object({
      name: Type.String(),
      version: Type.Integer(),
      alias: Type.Optional(Type.String()),
    }),
    distribution: Type.Optional(
      Type.Union(
        [
          Type.Object({
            kind: Type.Literal('histogram'),
            of: Type.String({ description: "'value', or 'probability of class <c>'" }),
            edges: Type.Array(Type.Number(), { description: '21 edges of 20 equal bins' }),
            counts: Type.Array(Type.Integer()),
          }),
          Type.Object({
            kind: Type.Literal('classes'),
            counts: Type.Record(Type.String(), Type.Integer()),
          }),
        ],
        {
          description:
            "The predictions' distribution (rows without a prediction left out): a binary classifier's second-class probability or a regression's values as a histogram, else rows per predicted class or cluster.",
        },
      ),
    ),
    plots: Type.Optional(RunPlots),
    dataset: Type.Union([Type.Object({ id: Type.String(), name: Type.String() }), Type.Null()], {
      description:
        'The dataset the output file was registered as (where it lies, counted in the quota; dataset://<id> in another job), or null (see datasetNote).',
    }),
    datasetNote: Type.Optional(
      Type.String({
        description:
          'Why dataset is null: not registered yet, over the quota or the size limit, or deleted since.',
      }),
    ),
  },
  { description: 'What jobs/score.py wrote to runs/<jobId>/scoring.json, and its dataset.' },
)
export type ScoringResult = Static<typeof ScoringResultSchema>
