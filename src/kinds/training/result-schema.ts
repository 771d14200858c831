/** GET /v1/jobs/{id}/result of a training job: its metrics.json and its model. */
import { Type, type Static } from 'typebox'
import { MlflowRunSchema } from '../../models/mlflow-tracking.js'
import { RunPlots } from '../../schemas/plots.js'

export const TrainingResultSchema = Type.Object(
  {
    metrics: Type.Record(Type.String(), Type.Number()),
    modelUri: Type.String(),
    modelName: Type.String(),
    modelVersion: Type.Union([Type.Integer(), Type.Null()], {
      description:
        "The model's version as GET /v1/models shows it and a scoring job names it: with MLflow tracking on, the MLflow registry's (null until tracked); with it off, the Redis registry's.",
    }),
    mlflow: Type.Union([MlflowRunSchema, Type.Null()], {
      description: 'The MLflow run and model version, once tracked (null: not yet, or off).',
    }),
    plots: Type.Optional(RunPlots),
    curves: Type.Optional(
      Type.Object(
        {
          areaUnderROC: Type.Number(),
          areaUnderPR: Type.Number(),
          roc: Type.Array(Type.Object({ fpr: Type.Number(), tpr: Type.Number() })),
          pr: Type.Array(Type.Object({ recall: Type.Number(), precision: Type.Number() })),
        },
        {
          additionalProperties: true,
          description:
            "Binary classifiers: the ROC and precision-recall curves on the test split, as Spark's evaluator draws them (rawPrediction[1]), thinned to at most 300 points keeping the area; each point has its threshold.",
        },
      ),
    ),
    calibration: Type.Optional(
      Type.Object(
        {
          bins: Type.Integer(),
          points: Type.Array(
            Type.Object({
              bin: Type.Integer(),
              meanPredicted: Type.Number(),
              fractionPositive: Type.Number(),
              rows: Type.Integer(),
            }),
          ),
        },
        {
          additionalProperties: true,
          description:
            "Binary classifiers with probabilities: the reliability curve (probability[1] in 10 equal bins, scikit-learn's calibration_curve).",
        },
      ),
    ),
    rocByClass: Type.Optional(
      Type.Array(
        Type.Object(
          {
            label: Type.String(),
            support: Type.Integer(),
            areaUnderROC: Type.Number(),
            roc: Type.Array(Type.Object({ fpr: Type.Number(), tpr: Type.Number() })),
          },
          { additionalProperties: true },
        ),
        { description: 'Multi-class: each class against the others (its probability as score).' },
      ),
    ),
    predictedVsActual: Type.Optional(
      Type.Object(
        {
          rows: Type.Integer(),
          sampled: Type.Integer(),
          points: Type.Array(Type.Object({ actual: Type.Number(), predicted: Type.Number() })),
        },
        { description: 'Regression: a seeded sample of at most 1,000 test rows.' },
      ),
    ),
  },
  { additionalProperties: true, description: 'metrics.json of the run, plus the model.' },
)
export type TrainingResult = Static<typeof TrainingResultSchema>
