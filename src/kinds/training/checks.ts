/**
 * What a training spec is checked for before anything is queued, beyond its schema.
 */
import type { Dataset } from '../../datasets/dataset-schema.js'
import { errors as problems } from '../../errors.js'
import { ALGORITHMS, checkParam } from './algorithms.js'
import type { TrainingSpec } from './spec.js'

type Entry = { field: string; rule: string; message: string }

/**
 * Checks what the schema cannot: params against the algorithm's allow-list, the task, the
 * label, the options that apply only to some algorithms (standardize, classWeights) or
 * exclude each other (evaluation and crossValidation, missing.impute without imputing),
 * and — when the dataset's columns are known — that every named column exists.
 */
export function checkTraining(t: TrainingSpec, dataset?: Dataset): void {
  const errors: Entry[] = []
  const add = (field: string, rule: string, message: string) =>
    errors.push({ field, rule, message })
  const algorithm = ALGORITHMS[t.algorithm]!
  const allowed = Object.keys(algorithm.params)
  const checkName = (field: string, name: string) => {
    if (!Object.hasOwn(algorithm.params, name)) {
      add(field, 'param', `is not a param of ${t.algorithm}; allowed: ${allowed.join(', ')}`)
      return false
    }
    return true
  }
  for (const [name, value] of Object.entries(t.params ?? {})) {
    const field = `body.training.params.${name}`
    if (!checkName(field, name)) continue
    const problem = checkParam(algorithm.params[name]!, value)
    if (problem) add(field, 'param', problem)
  }
  for (const [name, values] of Object.entries(t.crossValidation?.grid ?? {})) {
    const field = `body.training.crossValidation.grid.${name}`
    if (!checkName(field, name)) continue
    values.forEach((value, i) => {
      const problem = checkParam(algorithm.params[name]!, value)
      if (problem) add(`${field}.${i}`, 'param', problem)
    })
  }
  if (t.task && t.task !== algorithm.task)
    add('body.training.task', 'task', `is ${t.task}, but ${t.algorithm} does ${algorithm.task}`)
  if (algorithm.task !== 'clustering' && !t.label)
    add('body.training.label', 'required', `is required for ${algorithm.task}`)
  if (t.algorithm === 'multilayer_perceptron' && !t.params?.['layers'])
    add('body.training.params.layers', 'required', 'is required for multilayer_perceptron')
  if (t.missing?.impute && t.missing.strategy !== 'impute')
    add('body.training.missing.impute', 'missing', 'applies only with strategy impute')
  if (t.standardize !== undefined) {
    if (!algorithm.standardize)
      add('body.training.standardize', 'standardize', `does not apply to ${t.algorithm}`)
    const own = t.params?.['standardization']
    if (typeof own === 'boolean' && own !== t.standardize)
      add('body.training.standardize', 'standardize', 'disagrees with params.standardization')
  }
  if (t.classWeights && !algorithm.classWeights)
    add(
      'body.training.classWeights',
      'classWeights',
      algorithm.task === 'classification'
        ? `does not apply to ${t.algorithm} (MLlib has no weightCol for it)`
        : `applies to classification, not ${algorithm.task}`,
    )
  if (t.evaluation && t.crossValidation)
    add(
      'body.training.evaluation',
      'evaluation',
      'excludes crossValidation (which reports its own folds)',
    )
  if (t.label && t.features?.includes(t.label))
    add('body.training.features', 'label', `must not include the label ${t.label}`)

  const columns = dataset?.columns?.map((c) => c.name)
  if (columns) {
    const list = columns.join(', ')
    if (t.label && !columns.includes(t.label))
      add('body.training.label', 'column', `names no column of dataset ${dataset!.name}: ${list}`)
    t.features?.forEach((f, i) => {
      if (!columns.includes(f))
        add(
          `body.training.features.${i}`,
          'column',
          `(${f}) names no column of the dataset: ${list}`,
        )
    })
  }
  if (dataset && !['csv', 'json', 'parquet', 'libsvm'].includes(dataset.format))
    add(
      'body.training.dataset',
      'format',
      `is a ${dataset.format} dataset; train on csv, json, parquet or libsvm`,
    )
  if (errors.length > 0) throw problems.validationAll(errors)
}
