/**
 * The batch scoring spec (what a client sends as `scoring` in a job): a model of the
 * caller's tenant — by name (its latest version), `name/version` or `name@alias` (MLflow)
 * — and the dataset to score. jobs/score.py runs it; `resolved` is what Sparkgate found
 * at accept time, so every attempt scores the same version.
 */
import { Type, type Static } from 'typebox'
import { DatasetRefSchema } from './training-spec.js'

/** `name`, `name/<version>` or `name@<alias>` (a name ending in `/<digits>` is a version). */
export const MODEL_REF = '^[A-Za-z0-9][A-Za-z0-9 ._:/-]{0,127}(@[A-Za-z0-9_-]{1,255})?$'

export const ResolvedModelSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    uri: Type.String({ description: 'The PipelineModel scored (hdfs://…/model).' }),
    alias: Type.Optional(Type.String({ description: 'The MLflow alias it was named by.' })),
  },
  { additionalProperties: false },
)
export type ResolvedModel = Static<typeof ResolvedModelSchema>

export const ScoringSpecSchema = Type.Object(
  {
    model: Type.String({
      pattern: MODEL_REF,
      description:
        "A model of the caller's tenant: `name` (its latest version), `name/<version>`, or " +
        '`name@<alias>` (an MLflow alias of `<tenant>.<name>`; needs MLflow tracking). The ' +
        'numbers are those GET /v1/models shows: with tracking on, the MLflow registry’s.',
    }),
    dataset: DatasetRefSchema,
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

/** A model reference split into its name and its version or alias. */
export function parseModelRef(ref: string): { name: string; version?: number; alias?: string } {
  const versioned = /^(.+)\/([1-9][0-9]{0,8})$/.exec(ref)
  if (versioned) return { name: versioned[1]!, version: Number(versioned[2]) }
  const aliased = /^(.+)@([A-Za-z0-9_-]+)$/.exec(ref)
  if (aliased) return { name: aliased[1]!, alias: aliased[2]! }
  return { name: ref }
}

/** The format a scoring job writes: output.format, parquet when not given. */
export function outputFormat(s: Pick<ScoringSpec, 'output'>): 'csv' | 'parquet' {
  return s.output?.format ?? 'parquet'
}
