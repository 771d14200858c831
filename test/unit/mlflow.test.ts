/**
 * The pure parts of MLflow tracking, without a server: what a run logs from a spec and
 * its metrics.json, filter quoting, artifact paths, the SPARKGATE_MLFLOW_* settings and
 * the client they make (none: no client), the Azure token cache, and the registered-model
 * name that keeps tenants apart.
 */
import t from 'tap'
import type { TokenCredential } from '@azure/core-auth'
import { ConfigError, configWith, loadConfig } from '../../src/config.js'
import { artifactPath, MlflowError, quote } from '../../src/mlflow/mlflow-client.js'
import {
  AZURE_ML_SCOPE,
  cachedToken,
  createMlflowClient,
} from '../../src/mlflow/mlflow-settings.js'
import { modelNameOf, registeredModelName, runContent } from '../../src/models/mlflow-tracking.js'
import type { TrainingSpec } from '../../src/kinds/training/spec.js'

const spec: TrainingSpec = {
  dataset: 'a'.repeat(64),
  label: 'churned',
  features: ['tenure', 'contract'],
  algorithm: 'random_forest_classifier',
  params: { numTrees: 20, maxDepth: 5 },
  split: { test: 0.25, seed: 7 },
  crossValidation: { folds: 3, grid: { maxDepth: [3, 5] }, metric: 'f1' },
  modelName: 'churn',
}
const metricsJson = {
  task: 'classification',
  features: ['tenure', 'contract'],
  metrics: { accuracy: 0.9, f1: 0.88 },
  rows: { total: 100, used: 98, train: 74, test: 24 },
  preprocessing: {
    missing: { strategy: 'impute', impute: 'median', default: true },
    encoding: { contract: 'index', 'odd column(€)': 'one-hot' },
    standardize: null,
  },
  crossValidation: { metric: 'f1', folds: 3, best: { mean: 0.87, std: 0.02, params: {} } },
}

t.test('a run logs the spec and the preprocessing as params, the scores as metrics', async (t) => {
  const { params, metrics } = runContent(spec, metricsJson, 1_700_000_000_000)
  const p = Object.fromEntries(params.map((e) => [e.key, e.value]))
  t.equal(p['algorithm'], 'random_forest_classifier')
  t.equal(p['task'], 'classification')
  t.equal(p['dataset'], 'a'.repeat(64))
  t.equal(p['param.numTrees'], '20')
  t.equal(p['param.maxDepth'], '5')
  t.equal(p['split.test'], '0.25')
  t.equal(p['split.seed'], '7')
  t.equal(p['missing.strategy'], 'impute', 'the policy applied, from metrics.json')
  t.equal(p['missing.impute'], 'median')
  t.equal(p['encoding.contract'], 'index')
  t.equal(p['encoding.odd column___'], 'one-hot', "a column name outside MLflow's key alphabet")
  t.equal(p['features'], '["tenure","contract"]')
  t.equal(p['crossValidation.metric'], 'f1')
  t.notOk('standardize' in p, 'null values are left out')
  const m = Object.fromEntries(metrics.map((e) => [e.key, e.value]))
  t.same(m, {
    accuracy: 0.9,
    f1: 0.88,
    'cv.f1.mean': 0.87,
    'cv.f1.std': 0.02,
    'rows.total': 100,
    'rows.used': 98,
    'rows.train': 74,
    'rows.test': 24,
  })
  t.ok(
    metrics.every((e) => e.timestamp === 1_700_000_000_000 && e.step === 0),
    'one timestamp, step 0: a repeat logs the same rows',
  )
})

t.test('defaults of the spec, k-fold metrics, long values cut', async (t) => {
  const plain: TrainingSpec = {
    dataset: { uri: 'hdfs://nn/d.csv', format: 'csv' },
    algorithm: 'linear_regression',
    label: 'y',
    evaluation: { folds: 4 },
    features: Array.from({ length: 2000 }, (_, i) => `feature_${i}`),
  }
  const { params, metrics } = runContent(
    plain,
    {
      metrics: { rmse: 1.5, r2: Number.NaN },
      evaluation: { metrics: { rmse: { mean: 1.6, std: 0.1 } } },
    },
    5,
  )
  const p = Object.fromEntries(params.map((e) => [e.key, e.value]))
  t.equal(p['split.test'], '0.2')
  t.equal(p['split.seed'], '42')
  t.equal(p['dataset'], 'hdfs://nn/d.csv')
  t.equal(p['evaluation.folds'], '4')
  t.equal(p['features']!.length, 6000, "cut to MLflow's 6000 characters")
  t.same(
    metrics.map((e) => e.key),
    ['rmse', 'kfold.rmse.mean', 'kfold.rmse.std'],
    'NaN is not logged',
  )
})

t.test('registered model names are per tenant', async (t) => {
  t.equal(registeredModelName('acme', 'churn'), 'acme.churn')
  t.not(registeredModelName('a', 'b.c'), registeredModelName('a-b', 'c'))
  // MLflow refuses ':' and '/' in a name; a job name may hold them
  t.equal(registeredModelName('acme', 'churn:v2/eu'), 'acme.churn%3Av2%2Feu')
  t.equal(modelNameOf('acme', 'acme.churn%3Av2%2Feu'), 'churn:v2/eu')
  t.not(registeredModelName('a', 'b:c'), registeredModelName('a', 'b_c'))
})

t.test('filter values are quoted; artifact paths come from the run', async (t) => {
  t.equal(quote('job-1'), "'job-1'")
  t.equal(quote("it's"), `"it's"`)
  t.throws(() => quote(`'"`), MlflowError)
  t.equal(artifactPath('mlflow-artifacts:/3/abc/artifacts'), '3/abc/artifacts')
  t.equal(artifactPath('mlflow-artifacts://host:5000/3/abc/artifacts/'), '3/abc/artifacts')
  t.equal(artifactPath('azureml://x/y'), undefined)
})

t.test('SPARKGATE_MLFLOW_*: defaults, none, auth modes, secrets', async (t) => {
  const d = loadConfig({})
  t.equal(d.SPARKGATE_MLFLOW_URL, 'http://127.0.0.1:5005', 'the local stack')
  t.equal(d.SPARKGATE_MLFLOW_AUTH, 'none')
  t.ok(createMlflowClient(d), 'tracking on by default')
  t.equal(createMlflowClient(configWith({ SPARKGATE_MLFLOW_URL: 'none' })), undefined)
  t.throws(() => configWith({ SPARKGATE_MLFLOW_URL: 'ftp://x' }), ConfigError)
  t.throws(() => configWith({ SPARKGATE_MLFLOW_AUTH: 'basic' }), ConfigError)
  try {
    configWith({ SPARKGATE_MLFLOW_AUTH: 'token' })
    t.fail('a token mode without a token loaded')
  } catch (error) {
    t.match((error as ConfigError).problems, [/SPARKGATE_MLFLOW_TOKEN: is required/])
  }
  try {
    loadConfig({ SPARKGATE_MLFLOW_TOKEN: 'x'.repeat(10), SPARKGATE_MLFLOW_AUTH: 'bad' })
  } catch (error) {
    t.notMatch((error as Error).message, 'xxxxxxxxxx', 'the token is never shown')
  }
  const azure = configWith({ SPARKGATE_MLFLOW_AUTH: 'azure' })
  let asked = 0
  const credential: TokenCredential = {
    getToken: async (scope) => {
      asked++
      t.equal(scope, AZURE_ML_SCOPE)
      return { token: 'tok', expiresOnTimestamp: Date.now() + 3600_000 }
    },
  }
  t.ok(
    createMlflowClient(azure, () => credential),
    'a client; no token asked for yet',
  )
  t.equal(asked, 0)
})

t.test('the Azure token is cached until shortly before it expires', async (t) => {
  let n = 0
  let ttl = 3600_000
  const token = cachedToken(
    { getToken: async () => ({ token: `t${++n}`, expiresOnTimestamp: Date.now() + ttl }) },
    AZURE_ML_SCOPE,
  )
  t.equal(await token(), 't1')
  t.equal(await token(), 't1', 'cached')
  ttl = 60_000
  const fresh = cachedToken(
    { getToken: async () => ({ token: `u${++n}`, expiresOnTimestamp: Date.now() + ttl }) },
    AZURE_ML_SCOPE,
  )
  t.equal(await fresh(), 'u2')
  t.equal(await fresh(), 'u3', 'within 5 minutes of expiry: asked again')
})
