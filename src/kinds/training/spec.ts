/**
 * The declarative training spec (what a client sends as `training` in a job): the
 * dataset, label, features, one MLlib algorithm with params checked against its
 * allow-list, the missing-value policy, standardization and class weights, the split and
 * optional cross-validation or k-fold evaluation. jobs/train.py runs it.
 */
import { Type, type Static } from 'typebox'
import { DatasetInputSchema } from '../../datasets/dataset-input.js'
import { ALGORITHM_NAMES } from './algorithms.js'

const ColumnName = Type.String({ minLength: 1, maxLength: 256 })

export const TrainingSpecSchema = Type.Object(
  {
    dataset: DatasetInputSchema,
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
    missing: Type.Optional(
      Type.Object(
        {
          strategy: Type.Unsafe<'drop' | 'impute' | 'error'>({
            type: 'string',
            enum: ['drop', 'impute', 'error'],
            description:
              'drop: rows missing a feature; impute: fill numeric features (string features keep ' +
              'nulls in their own slot); error: fail the job, naming the columns. Rows without ' +
              'a label are always dropped (error: refused) and counted.',
          }),
          impute: Type.Optional(
            Type.Unsafe<'mean' | 'median' | 'mode'>({
              type: 'string',
              enum: ['mean', 'median', 'mode'],
              description: 'With strategy impute only; default mean.',
            }),
          ),
        },
        {
          additionalProperties: false,
          description:
            'Missing values (null, NaN). Default: impute the median for trees, drop for ' +
            'clustering, impute the mean otherwise; the result reports the policy applied.',
        },
      ),
    ),
    standardize: Type.Optional(
      Type.Boolean({
        description:
          "Scale features to unit variance: MLlib's own standardization param (default on) " +
          'for logistic_regression, linear_svc, linear_regression; a StandardScaler stage ' +
          '(default off) for generalized_linear_regression and multilayer_perceptron. Not ' +
          'for other algorithms.',
      }),
    ),
    classWeights: Type.Optional(
      Type.Unsafe<'balanced'>({
        type: 'string',
        enum: ['balanced'],
        description:
          'Weight each class n / (k · n_class) of the training split (weightCol); ' +
          'classifiers with a weightCol only (not multilayer_perceptron).',
      }),
    ),
    evaluation: Type.Optional(
      Type.Object(
        {
          folds: Type.Integer({
            minimum: 2,
            maximum: 20,
            description: 'k: every metric on each of k folds of the training split.',
          }),
        },
        {
          additionalProperties: false,
          description:
            'k-fold metrics (mean ± std) without a grid, before the fit on the whole ' +
            'training split; not with crossValidation (which reports its folds).',
        },
      ),
    ),
    plots: Type.Optional(
      Type.Boolean({
        description:
          'Default true: draw the evaluation plots (GET /v1/jobs/{id}/result/plots) and compute the data ' +
          'only they need (calibration, ROC per class, predicted against actual); false ' +
          'saves their seconds. The metrics, curves and confusion matrix are there either way.',
      }),
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
