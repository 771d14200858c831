/**
 * What checkTraining refuses before a training job is queued (src/kinds/training/checks.ts)
 * and the param rules of the allow-list (src/kinds/training/algorithms.ts). A refusal is one
 * 400 SPARKGATE_VALIDATION listing every broken rule at once. No HDFS, no Spark.
 */
import t, { type Test } from 'tap'
import type { Dataset } from '../../src/datasets/dataset-schema.js'
import { SparkgateError, type FieldError } from '../../src/errors.js'
import { ALGORITHMS, checkParam, type ParamRule } from '../../src/kinds/training/algorithms.js'
import { datasetIdOf } from '../../src/datasets/dataset-input.js'
import { checkTraining } from '../../src/kinds/training/checks.js'
import type { TrainingSpec } from '../../src/kinds/training/spec.js'

const DATASET_ID = 'a'.repeat(64)

const spec = (over: Partial<TrainingSpec> = {}): TrainingSpec => ({
  dataset: DATASET_ID,
  algorithm: 'logistic_regression',
  label: 'y',
  ...over,
})

const dataset = (over: Partial<Dataset> = {}): Dataset => ({
  id: DATASET_ID,
  name: 'iris.csv',
  size: 100,
  sha256: DATASET_ID,
  uri: `hdfs://nn:8020/sparkgate/datasets/${DATASET_ID}`,
  path: `/sparkgate/datasets/${DATASET_ID}`,
  format: 'csv',
  columns: [
    { name: 'a', type: 'double' },
    { name: 'b', type: 'double' },
    { name: 'y', type: 'integer' },
  ],
  createdAt: '2024-01-01T00:00:00.000Z',
  ...over,
})

/** The field errors checkTraining throws, after checking the error's shape. */
function refusal(t: Test, s: TrainingSpec, d?: Dataset): FieldError[] {
  try {
    checkTraining(s, d)
  } catch (error) {
    t.type(error, SparkgateError)
    const e = error as SparkgateError
    t.equal(e.status, 400)
    t.equal(e.code, 'SPARKGATE_VALIDATION')
    const errors = e.extra['errors'] as FieldError[]
    t.equal(e.message, errors.map((x) => x.message).join('; '), 'the detail joins every entry')
    for (const x of errors)
      t.ok(x.message.startsWith(`${x.field} `), `the message names its field: ${x.message}`)
    return errors
  }
  t.fail('checkTraining accepted the spec')
  return []
}

/** A value each rule accepts. */
function validValue(rule: ParamRule): unknown {
  switch (rule.type) {
    case 'boolean':
      return true
    case 'string':
      return rule.enum[0]
    case 'integer[]':
      return Array.from({ length: rule.minItems }, () => rule.min ?? 1)
    case 'integer':
      return rule.max ?? (rule.min ?? 0) + 1
    case 'number':
      return rule.max ?? (rule.min ?? 0) + 0.5
  }
}

t.test('a valid spec passes, with and without a dataset', async (t) => {
  t.doesNotThrow(() => checkTraining(spec()))
  t.doesNotThrow(() => checkTraining(spec({ features: ['a', 'b'] }), dataset()))
  t.doesNotThrow(() =>
    checkTraining(
      spec({
        task: 'classification',
        params: { maxIter: 50, regParam: 0.1, elasticNetParam: 0, family: 'binomial' },
        crossValidation: { folds: 3, grid: { regParam: [0, 0.01, 0.1] } },
      }),
      dataset(),
    ),
  )
  t.doesNotThrow(
    () => checkTraining(spec({ algorithm: 'kmeans', label: undefined, params: { k: 3 } })),
    'clustering needs no label',
  )
  t.doesNotThrow(
    () => checkTraining(spec(), dataset({ format: 'parquet', columns: undefined })),
    'a dataset without sniffed columns: no column checks',
  )
})

t.test('every algorithm passes with a valid value for every one of its params', async (t) => {
  for (const [name, algorithm] of Object.entries(ALGORITHMS)) {
    const params = Object.fromEntries(
      Object.entries(algorithm.params).map(([p, rule]) => [p, validValue(rule)]),
    )
    const s = spec({
      algorithm: name,
      task: algorithm.task,
      label: algorithm.task === 'clustering' ? undefined : 'y',
      params,
    })
    t.doesNotThrow(() => checkTraining(s, dataset()), `${name} with ${JSON.stringify(params)}`)
  }
})

t.test('an unknown param names the field and the allowed params', async (t) => {
  const errors = refusal(t, spec({ algorithm: 'kmeans', label: undefined, params: { kk: 3 } }))
  t.strictSame(errors, [
    {
      field: 'body.training.params.kk',
      rule: 'param',
      message:
        'body.training.params.kk is not a param of kmeans; allowed: k, maxIter, tol, seed, initMode, distanceMeasure',
    },
  ])
})

t.test('names of Object.prototype are no params either', async (t) => {
  // `name in algorithm.params` also finds inherited properties (toString, constructor…),
  // so these pass the allow-list and reach train.py, which fails on them at fit time.
  for (const name of ['constructor', 'toString', 'hasOwnProperty']) {
    let thrown: unknown
    try {
      checkTraining(spec({ algorithm: 'kmeans', label: undefined, params: { [name]: 1 } }))
    } catch (error) {
      thrown = error
    }
    t.type(thrown, SparkgateError, `params.${name} is refused`)
  }
})

t.test('bad param values: type and range, each named', async (t) => {
  const errors = refusal(
    t,
    spec({
      params: {
        maxIter: 0,
        regParam: -1,
        elasticNetParam: 1.5,
        fitIntercept: 'yes',
        family: 'poisson',
        tol: '0.1',
      },
    }),
  )
  t.strictSame(errors, [
    {
      field: 'body.training.params.maxIter',
      rule: 'param',
      message: 'body.training.params.maxIter must be ≥ 1',
    },
    {
      field: 'body.training.params.regParam',
      rule: 'param',
      message: 'body.training.params.regParam must be ≥ 0',
    },
    {
      field: 'body.training.params.elasticNetParam',
      rule: 'param',
      message: 'body.training.params.elasticNetParam must be ≤ 1',
    },
    {
      field: 'body.training.params.fitIntercept',
      rule: 'param',
      message: 'body.training.params.fitIntercept must be a boolean',
    },
    {
      field: 'body.training.params.family',
      rule: 'param',
      message: 'body.training.params.family must be one of auto, binomial, multinomial',
    },
    {
      field: 'body.training.params.tol',
      rule: 'param',
      message: 'body.training.params.tol must be a number',
    },
  ])
})

t.test('checkParam: every kind of rule', async (t) => {
  const integer: ParamRule = { type: 'integer', min: 1, max: 10 }
  t.equal(checkParam(integer, 1), undefined)
  t.equal(checkParam(integer, 10), undefined)
  t.equal(checkParam(integer, 0), 'must be ≥ 1')
  t.equal(checkParam(integer, 11), 'must be ≤ 10')
  t.equal(checkParam(integer, 2.5), 'must be an integer')
  // not a finite number at all
  for (const v of ['3', NaN, Infinity, null])
    t.equal(checkParam(integer, v), 'must be an integer', `${String(v)} is no integer`)
  t.equal(checkParam({ type: 'integer' }, -5), undefined, 'no bounds: any integer')

  const number: ParamRule = { type: 'number', min: 0, max: 1 }
  t.equal(checkParam(number, 0), undefined, 'min is inclusive')
  t.equal(checkParam(number, 0.25), undefined)
  t.equal(checkParam(number, -0.01), 'must be ≥ 0')
  t.equal(checkParam(number, 1.01), 'must be ≤ 1')
  t.equal(checkParam(number, true), 'must be a number')
  t.equal(checkParam({ type: 'number' }, -1e9), undefined, 'no bounds: any number')

  const exclusive: ParamRule = { type: 'number', min: 0, max: 1, exclusiveMin: true }
  t.equal(checkParam(exclusive, 0), 'must be > 0', 'exclusiveMin: min itself is refused')
  t.equal(checkParam(exclusive, 1e-9), undefined)
  t.equal(checkParam(exclusive, 1), undefined, 'max stays inclusive')

  t.equal(checkParam({ type: 'boolean' }, false), undefined)
  t.equal(checkParam({ type: 'boolean' }, 0), 'must be a boolean')
  t.equal(checkParam({ type: 'boolean' }, 'true'), 'must be a boolean')

  const choice: ParamRule = { type: 'string', enum: ['gini', 'entropy'] }
  t.equal(checkParam(choice, 'gini'), undefined)
  t.equal(checkParam(choice, 'Gini'), 'must be one of gini, entropy', 'case matters')
  t.equal(checkParam(choice, 1), 'must be one of gini, entropy')

  const layers: ParamRule = { type: 'integer[]', min: 1, minItems: 2 }
  t.equal(checkParam(layers, [4, 8, 3]), undefined)
  t.equal(checkParam(layers, [4, 3]), undefined)
  t.equal(checkParam(layers, [4]), 'must be a list of at least 2 integers')
  t.equal(checkParam(layers, '4,3'), 'must be a list of at least 2 integers')
  t.equal(checkParam(layers, [4, 0]), 'must hold integers ≥ 1')
  t.equal(checkParam(layers, [4, 1.5]), 'must hold integers ≥ 1')
  t.equal(checkParam(layers, [4, '3']), 'must hold integers ≥ 1')
})

t.test('the allow-list itself: each rule is well formed', async (t) => {
  for (const [name, algorithm] of Object.entries(ALGORITHMS)) {
    t.ok(Object.keys(algorithm.params).length > 0, `${name} has params`)
    for (const [param, rule] of Object.entries(algorithm.params)) {
      const at = `${name}.${param}`
      t.equal(checkParam(rule, validValue(rule)), undefined, `${at} accepts a valid value`)
      t.not(checkParam(rule, { not: 'a value' }), undefined, `${at} refuses an object`)
      if (rule.type === 'string') t.ok(rule.enum.length > 0, `${at} has choices`)
      if ((rule.type === 'integer' || rule.type === 'number') && rule.min !== undefined) {
        t.ok(rule.max === undefined || rule.min < rule.max, `${at}: min < max`)
        t.not(checkParam(rule, rule.min - 1), undefined, `${at} refuses min - 1`)
      }
    }
  }
})

t.test('grid values are checked one by one, each named by its index', async (t) => {
  const errors = refusal(
    t,
    spec({
      crossValidation: {
        folds: 3,
        grid: { regParam: [0.1, -1, 0.2, 'x'], nope: [1], maxIter: [10] },
      },
    }),
  )
  t.strictSame(errors, [
    {
      field: 'body.training.crossValidation.grid.regParam.1',
      rule: 'param',
      message: 'body.training.crossValidation.grid.regParam.1 must be ≥ 0',
    },
    {
      field: 'body.training.crossValidation.grid.regParam.3',
      rule: 'param',
      message: 'body.training.crossValidation.grid.regParam.3 must be a number',
    },
    {
      field: 'body.training.crossValidation.grid.nope',
      rule: 'param',
      message: `body.training.crossValidation.grid.nope is not a param of logistic_regression; allowed: ${Object.keys(ALGORITHMS['logistic_regression']!.params).join(', ')}`,
    },
  ])
})

t.test("a task that is not the algorithm's", async (t) => {
  const errors = refusal(t, spec({ algorithm: 'kmeans', label: undefined, task: 'regression' }))
  t.strictSame(errors, [
    {
      field: 'body.training.task',
      rule: 'task',
      message: 'body.training.task is regression, but kmeans does clustering',
    },
  ])
  t.doesNotThrow(() => checkTraining(spec({ task: 'classification' })), 'the same task is fine')
})

t.test('a label is required for classification and regression, not clustering', async (t) => {
  t.strictSame(refusal(t, spec({ label: undefined })), [
    {
      field: 'body.training.label',
      rule: 'required',
      message: 'body.training.label is required for classification',
    },
  ])
  t.strictSame(refusal(t, spec({ algorithm: 'gbt_regressor', label: undefined })), [
    {
      field: 'body.training.label',
      rule: 'required',
      message: 'body.training.label is required for regression',
    },
  ])
  for (const algorithm of ['kmeans', 'bisecting_kmeans', 'gaussian_mixture'])
    t.doesNotThrow(() => checkTraining(spec({ algorithm, label: undefined })), algorithm)
})

t.test('multilayer_perceptron needs layers', async (t) => {
  t.strictSame(refusal(t, spec({ algorithm: 'multilayer_perceptron' })), [
    {
      field: 'body.training.params.layers',
      rule: 'required',
      message: 'body.training.params.layers is required for multilayer_perceptron',
    },
  ])
  t.doesNotThrow(() =>
    checkTraining(spec({ algorithm: 'multilayer_perceptron', params: { layers: [2, 5, 3] } })),
  )
})

t.test('the label must not be a feature', async (t) => {
  t.strictSame(refusal(t, spec({ features: ['a', 'y'] })), [
    {
      field: 'body.training.features',
      rule: 'label',
      message: 'body.training.features must not include the label y',
    },
  ])
})

t.test("with the dataset's columns known, every named column must exist", async (t) => {
  const errors = refusal(t, spec({ label: 'z', features: ['a', 'q', 'b', 'r'] }), dataset())
  t.strictSame(errors, [
    {
      field: 'body.training.label',
      rule: 'column',
      message: 'body.training.label names no column of dataset iris.csv: a, b, y',
    },
    {
      field: 'body.training.features.1',
      rule: 'column',
      message: 'body.training.features.1 (q) names no column of the dataset: a, b, y',
    },
    {
      field: 'body.training.features.3',
      rule: 'column',
      message: 'body.training.features.3 (r) names no column of the dataset: a, b, y',
    },
  ])
  t.doesNotThrow(
    () => checkTraining(spec({ label: 'z', features: ['q'] })),
    'without a dataset, columns are not checked',
  )
})

t.test('only csv, json, parquet and libsvm datasets train', async (t) => {
  for (const format of ['txt', 'other'] as const) {
    t.strictSame(refusal(t, spec(), dataset({ format, columns: undefined })), [
      {
        field: 'body.training.dataset',
        rule: 'format',
        message: `body.training.dataset is a ${format} dataset; train on csv, json, parquet or libsvm`,
      },
    ])
  }
  for (const format of ['csv', 'json', 'parquet', 'libsvm'] as const)
    t.doesNotThrow(() => checkTraining(spec(), dataset({ format, columns: undefined })), format)
})

t.test('every broken rule is reported at once, in order', async (t) => {
  const errors = refusal(
    t,
    spec({
      algorithm: 'linear_regression',
      task: 'classification',
      label: 'z',
      features: ['z', 'a'],
      params: { bogus: 1, maxIter: -1 },
      crossValidation: { folds: 3, grid: { regParam: [-1] } },
    }),
    dataset({ format: 'txt' }),
  )
  t.strictSame(
    errors.map((e) => `${e.field}:${e.rule}`),
    [
      'body.training.params.bogus:param',
      'body.training.params.maxIter:param',
      'body.training.crossValidation.grid.regParam.0:param',
      'body.training.task:task',
      'body.training.features:label',
      'body.training.label:column',
      'body.training.features.0:column',
      'body.training.dataset:format',
    ],
  )
})

t.test('datasetIdOf: an uploaded dataset id, or nothing for a cluster URI', async (t) => {
  t.equal(datasetIdOf(spec().dataset), DATASET_ID)
  t.equal(
    datasetIdOf(spec({ dataset: { uri: 'hdfs://nn:8020/data/iris.csv', format: 'csv' } }).dataset),
    undefined,
  )
})

t.test('missing, standardize, classWeights and evaluation: where each applies', async (t) => {
  t.doesNotThrow(() =>
    checkTraining(
      spec({
        missing: { strategy: 'impute', impute: 'median' },
        standardize: false,
        classWeights: 'balanced',
        evaluation: { folds: 5 },
      }),
    ),
  )
  t.doesNotThrow(
    () => checkTraining(spec({ standardize: true, params: { standardization: true } })),
    'standardize may repeat params.standardization',
  )
  t.doesNotThrow(() =>
    checkTraining(spec({ algorithm: 'multilayer_perceptron', params: { layers: [2, 2] } })),
  )
  t.strictSame(
    refusal(
      t,
      spec({
        algorithm: 'gbt_regressor',
        missing: { strategy: 'drop', impute: 'mean' },
        standardize: true,
        classWeights: 'balanced',
        evaluation: { folds: 3 },
        crossValidation: { folds: 3, grid: { maxDepth: [2, 3] } },
      }),
    ),
    [
      {
        field: 'body.training.missing.impute',
        rule: 'missing',
        message: 'body.training.missing.impute applies only with strategy impute',
      },
      {
        field: 'body.training.standardize',
        rule: 'standardize',
        message: 'body.training.standardize does not apply to gbt_regressor',
      },
      {
        field: 'body.training.classWeights',
        rule: 'classWeights',
        message: 'body.training.classWeights applies to classification, not regression',
      },
      {
        field: 'body.training.evaluation',
        rule: 'evaluation',
        message: 'body.training.evaluation excludes crossValidation (which reports its own folds)',
      },
    ],
  )
  t.strictSame(
    refusal(
      t,
      spec({
        algorithm: 'multilayer_perceptron',
        params: { layers: [2, 2] },
        classWeights: 'balanced',
      }),
    ).map((e) => e.message),
    [
      'body.training.classWeights does not apply to multilayer_perceptron (MLlib has no weightCol for it)',
    ],
  )
  t.strictSame(
    refusal(t, spec({ standardize: true, params: { standardization: false } })).map(
      (e) => e.message,
    ),
    ['body.training.standardize disagrees with params.standardization'],
  )
})
