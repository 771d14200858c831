/** GET /v1/jobs/{id}/result of a training job: its metrics.json and its model. */
import { Type, type Static } from 'typebox'
import { MlflowRunSchema } from '../../models/mlflow-tracking.js'

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
  },
  { additionalProperties: true, description: 'metrics.json of the run, plus the model.' },
)
export type TrainingResult = Static<typeof TrainingResultSchema>
