import type { Dataset } from '../../datasets/dataset-schema.js'
import { errors as problems } from '../../errors.js'

/**
 * When the dataset's columns are known (an uploaded dataset): every feature of the model
 * is one of them, and the format can be scored.
 */
export function checkScoring(features: string[] | undefined, dataset: Dataset): void {
  const columns = dataset.columns?.map((c) => c.name)
  const absent = columns ? (features ?? []).filter((f) => !columns.includes(f)) : []
  if (absent.length > 0)
    throw problems.validation(
      'body.scoring.dataset',
      'column',
      `lacks the model's feature column(s) ${absent.join(', ')}; columns of dataset ${dataset.name}: ${columns!.join(', ')}`,
    )
  if (!['csv', 'json', 'parquet', 'libsvm'].includes(dataset.format))
    throw problems.validation(
      'body.scoring.dataset',
      'format',
      `is a ${dataset.format} dataset; score csv, json, parquet or libsvm`,
    )
}
