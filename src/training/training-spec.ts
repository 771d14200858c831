/**
 * The declarative training spec (what a client sends as `training` in a job): the
 * dataset, label, features, one MLlib algorithm with params checked against its
 * allow-list, the split and optional cross-validation. jobs/train.py runs it.
 */
import { Type, type Static } from 'typebox'
import { ClusterUri } from '../schemas/common.js'
import { ALGORITHM_NAMES } from './algorithms.js'

const ColumnName = Type.String({ minLength: 1, maxLength: 256 })

export const TrainingSpecSchema = Type.Object(
  {
    dataset: Type.Union(
      [
        Type.String({ pattern: '^[0-9a-f]{64}$', description: 'An uploaded dataset id.' }),
        Type.Object(
          {
            uri: ClusterUri,
            format: Type.Unsafe<'csv' | 'parquet' | 'json' | 'libsvm'>({
              type: 'string',
              enum: ['csv', 'parquet', 'json', 'libsvm'],
            }),
            header: Type.Optional(Type.Boolean({ description: 'CSV: first line is a header.' })),
            separator: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
          },
          { additionalProperties: false },
        ),
      ],
      { description: 'A dataset id, or { uri, format } for data already on the cluster.' },
    ),
    label: Type.Optional({
      ...ColumnName,
      description: 'The label column (not for clustering).',
    }),
    features: Type.Optional(
      Type.Array(ColumnName, {
        minItems: 1,
        maxItems: 10_000,
        description: 'Feature columns; default: every column but the label.',
      }),
    ),
    task: Type.Optional(
      Type.Unsafe<'classification' | 'regression' | 'clustering'>({
        type: 'string',
        enum: ['classification', 'regression', 'clustering'],
        description: 'Inferred from the algorithm when omitted.',
      }),
    ),
    algorithm: Type.Unsafe<string>({
      type: 'string',
      enum: ALGORITHM_NAMES,
      description: 'The MLlib estimator.',
    }),
    params: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "The estimator's params by MLlib name; checked against an allow-list.",
      }),
    ),
    split: Type.Optional(
      Type.Object(
        {
          test: Type.Number({ exclusiveMinimum: 0, maximum: 0.9, default: 0.2 }),
          seed: Type.Integer({ minimum: 0, default: 42 }),
        },
        { additionalProperties: false },
      ),
    ),
    crossValidation: Type.Optional(
      Type.Object(
        {
          folds: Type.Integer({ minimum: 2, maximum: 20, default: 3 }),
          grid: Type.Record(
            Type.String(),
            Type.Array(Type.Unknown(), { minItems: 1, maxItems: 20 }),
            {
              description: 'Param name → values to try.',
            },
          ),
          metric: Type.Optional(
            Type.Unsafe<string>({
              type: 'string',
              enum: [
                'accuracy',
                'f1',
                'weightedPrecision',
                'weightedRecall',
                'areaUnderROC',
                'areaUnderPR',
                'rmse',
                'mae',
                'r2',
                'silhouette',
              ],
            }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    modelName: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 128,
        pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
        description: 'Registry name of the model; default: the job name.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Declarative MLlib training (jobs/train.py).' },
)
export type TrainingSpec = Static<typeof TrainingSpecSchema>
