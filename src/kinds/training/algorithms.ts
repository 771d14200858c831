/**
 * The MLlib algorithms a training job may name, the task each does, and the allow-list of
 * its params (MLlib's own names, with types and ranges). jobs/train.py maps the same names
 * to the pyspark.ml estimators; a param outside the list is a 400 that names the allowed.
 */
export type Task = 'classification' | 'regression' | 'clustering'

export type ParamRule =
  | { type: 'integer'; min?: number; max?: number }
  | { type: 'number'; min?: number; max?: number; exclusiveMin?: boolean }
  | { type: 'boolean' }
  | { type: 'string'; enum: readonly string[] }
  | { type: 'integer[]'; min?: number; minItems: number }

const maxIter = { type: 'integer', min: 1, max: 10_000 } as const
const regParam = { type: 'number', min: 0 } as const
const elasticNetParam = { type: 'number', min: 0, max: 1 } as const
const tol = { type: 'number', min: 0 } as const
const seed = { type: 'integer', min: 0 } as const
const fitIntercept = { type: 'boolean' } as const
const standardization = { type: 'boolean' } as const
const threshold = { type: 'number', min: 0, max: 1 } as const
const tree = {
  maxDepth: { type: 'integer', min: 0, max: 30 },
  maxBins: { type: 'integer', min: 2, max: 100_000 },
  minInstancesPerNode: { type: 'integer', min: 1 },
  minInfoGain: { type: 'number', min: 0 },
  seed,
} as const
const forest = {
  ...tree,
  numTrees: { type: 'integer', min: 1, max: 10_000 },
  subsamplingRate: { type: 'number', min: 0, max: 1, exclusiveMin: true },
  featureSubsetStrategy: {
    type: 'string',
    enum: ['auto', 'all', 'onethird', 'sqrt', 'log2'],
  },
} as const
const boosted = {
  ...tree,
  maxIter,
  stepSize: { type: 'number', min: 0, max: 1, exclusiveMin: true },
  subsamplingRate: { type: 'number', min: 0, max: 1, exclusiveMin: true },
} as const
const k = { type: 'integer', min: 2, max: 10_000 } as const
const linearModel = { maxIter, regParam, elasticNetParam, tol, fitIntercept, standardization }

/**
 * An algorithm: its task, its params' allow-list, how `standardize` applies (MLlib's own
 * `standardization` param, or a StandardScaler stage; absent: it does not) and whether
 * `classWeights` can (MLlib has a weightCol). jobs/train.py's STANDARDIZE and WEIGHTED
 * say the same (jobs/tests/test_train.py checks them against algorithms.json).
 */
export type Algorithm = {
  task: Task
  params: Record<string, ParamRule>
  standardize?: 'param' | 'scaler'
  classWeights?: true
}

export const ALGORITHMS: Record<string, Algorithm> = {
  logistic_regression: {
    task: 'classification',
    standardize: 'param',
    classWeights: true,
    params: {
      ...linearModel,
      threshold,
      family: { type: 'string', enum: ['auto', 'binomial', 'multinomial'] },
    },
  },
  linear_svc: {
    task: 'classification',
    standardize: 'param',
    classWeights: true,
    params: {
      maxIter,
      regParam,
      tol,
      fitIntercept,
      standardization,
      threshold: { type: 'number' },
    },
  },
  naive_bayes: {
    task: 'classification',
    classWeights: true,
    params: {
      smoothing: { type: 'number', min: 0 },
      modelType: { type: 'string', enum: ['multinomial', 'gaussian', 'bernoulli', 'complement'] },
    },
  },
  decision_tree_classifier: {
    task: 'classification',
    classWeights: true,
    params: { ...tree, impurity: { type: 'string', enum: ['gini', 'entropy'] } },
  },
  random_forest_classifier: {
    task: 'classification',
    classWeights: true,
    params: { ...forest, impurity: { type: 'string', enum: ['gini', 'entropy'] } },
  },
  gbt_classifier: { task: 'classification', classWeights: true, params: { ...boosted } },
  multilayer_perceptron: {
    task: 'classification',
    standardize: 'scaler',
    params: {
      layers: { type: 'integer[]', min: 1, minItems: 2 },
      maxIter,
      tol,
      seed,
      blockSize: { type: 'integer', min: 1 },
      stepSize: { type: 'number', min: 0, exclusiveMin: true },
      solver: { type: 'string', enum: ['l-bfgs', 'gd'] },
    },
  },
  linear_regression: {
    task: 'regression',
    standardize: 'param',
    params: {
      ...linearModel,
      solver: { type: 'string', enum: ['auto', 'normal', 'l-bfgs'] },
      loss: { type: 'string', enum: ['squaredError', 'huber'] },
    },
  },
  generalized_linear_regression: {
    task: 'regression',
    standardize: 'scaler',
    params: {
      maxIter,
      regParam,
      tol,
      fitIntercept,
      family: { type: 'string', enum: ['gaussian', 'binomial', 'poisson', 'gamma', 'tweedie'] },
      link: {
        type: 'string',
        enum: ['identity', 'log', 'inverse', 'logit', 'probit', 'cloglog', 'sqrt'],
      },
    },
  },
  decision_tree_regressor: { task: 'regression', params: { ...tree } },
  random_forest_regressor: { task: 'regression', params: { ...forest } },
  gbt_regressor: {
    task: 'regression',
    params: { ...boosted, lossType: { type: 'string', enum: ['squared', 'absolute'] } },
  },
  kmeans: {
    task: 'clustering',
    params: {
      k,
      maxIter,
      tol,
      seed,
      initMode: { type: 'string', enum: ['k-means||', 'random'] },
      distanceMeasure: { type: 'string', enum: ['euclidean', 'cosine'] },
    },
  },
  bisecting_kmeans: {
    task: 'clustering',
    params: {
      k,
      maxIter,
      seed,
      minDivisibleClusterSize: { type: 'number', min: 0, exclusiveMin: true },
    },
  },
  gaussian_mixture: { task: 'clustering', params: { k, maxIter, tol, seed } },
}

export const ALGORITHM_NAMES = Object.keys(ALGORITHMS)

/** Why `value` breaks `rule`, or undefined when it does not. */
export function checkParam(rule: ParamRule, value: unknown): string | undefined {
  switch (rule.type) {
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be a boolean'
    case 'string':
      return typeof value === 'string' && rule.enum.includes(value)
        ? undefined
        : `must be one of ${rule.enum.join(', ')}`
    case 'integer[]': {
      if (!Array.isArray(value) || value.length < rule.minItems)
        return `must be a list of at least ${rule.minItems} integers`
      const bad = value.some(
        (v) => !Number.isInteger(v) || (rule.min !== undefined && v < rule.min),
      )
      return bad ? `must hold integers ≥ ${rule.min ?? 0}` : undefined
    }
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value))
        return rule.type === 'integer' ? 'must be an integer' : 'must be a number'
      if (rule.type === 'integer' && !Number.isInteger(value)) return 'must be an integer'
      if (rule.min !== undefined) {
        const exclusive = 'exclusiveMin' in rule && rule.exclusiveMin
        if (exclusive ? value <= rule.min : value < rule.min)
          return `must be ${exclusive ? '>' : '≥'} ${rule.min}`
      }
      if (rule.max !== undefined && value > rule.max) return `must be ≤ ${rule.max}`
      return undefined
    }
  }
}
