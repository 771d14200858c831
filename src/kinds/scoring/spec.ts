/**
 * The batch scoring spec (what a client sends as `scoring` in a job): a model of the
 * caller's tenant — by name (its latest version), `name/version` or `name@alias` (MLflow)
 * — and the dataset to score. jobs/score.py runs it; `resolved` is what Sparkgate found
 * at accept time, so every attempt scores the same version.
 */
import { Type, type Static } from 'typebox'
import { MODEL_REF, ResolvedModelSchema } from '../../models/model-ref.js'
import { DatasetInputSchema } from '../../datasets/dataset-input.js'

export const ScoringSpecSchema = Type.Object(
  {
    model: Type.String({
      pattern: MODEL_REF,
      description:
        "A model of the caller's tenant: `name` (its latest version), `name/<version>`, or " +
        '`name@<alias>` (an MLflow alias of `<tenant>.<name>`; needs MLflow tracking). The ' +
        'numbers are those GET /v1/models shows: with tracking on, the MLflow registry’s.',
    }),
    dataset: DatasetInputSchema,
    output: Type.Optional(
      Type.Object(
        {
          format: Type.Unsafe<'parquet' | 'csv'>({
            type: 'string',
            enum: ['parquet', 'csv'],
            description:
              'parquet (default): probability is an array of doubles; csv: a JSON array text.',
          }),
        },
        { additionalProperties: false },
      ),
    ),
    resolved: Type.Optional({
      ...ResolvedModelSchema,
      description: 'Set by Sparkgate when the job is accepted (a value sent is replaced).',
    }),
  },
  {
    additionalProperties: false,
    description:
      'Batch scoring (jobs/score.py): every row of the dataset with prediction (and probability).',
  },
)
export type ScoringSpec = Static<typeof ScoringSpecSchema>

/** The format a scoring job writes: output.format, parquet when not given. */
export function outputFormat(s: Pick<ScoringSpec, 'output'>): 'csv' | 'parquet' {
  return s.output?.format ?? 'parquet'
}
