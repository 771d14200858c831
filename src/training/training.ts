/**
 * Declarative training: checking a training spec before anything is queued, and staging
 * a training job for the cluster — jobs/train.py and the zip of the package it runs
 * (job-package.ts) once per content under artifacts/, the run's spec.json under
 * runs/<jobId>/ — then reading its metrics.json back.
 */
import { fileURLToPath } from 'node:url'
import type { Dataset } from '../datasets/dataset-schema.js'
import type { Staging, StagingOwner } from '../datasets/staging.js'
import { errors as problems } from '../errors.js'
import { WebHdfsError, type WebHdfsClient } from '../storage/webhdfs-client.js'
import { ALGORITHMS, checkParam } from './algorithms.js'
import { stageJobPackage } from './job-package.js'
import type { TrainingSpec } from './training-spec.js'

export const TRAIN_SCRIPT = fileURLToPath(new URL('../../jobs/train.py', import.meta.url))

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

/** The uploaded dataset a training (or scoring) reads: its id, or `{uri: "dataset://<id>"}`. */
export function trainingDatasetId(t: Pick<TrainingSpec, 'dataset'>): string | undefined {
  if (typeof t.dataset === 'string') return t.dataset
  return /^dataset:\/\/([0-9a-f]{64})$/.exec(t.dataset.uri)?.[1]
}

/**
 * What a job reads: an uploaded dataset runs from the URI recorded at accept time (a
 * `{uri: dataset://…}` keeps its own format and CSV options).
 */
export function inputOf(
  jobId: string,
  dataset: TrainingSpec['dataset'],
  uploaded?: { uri: string; format: string },
) {
  const input =
    typeof dataset === 'string' ? uploaded : uploaded ? { ...dataset, uri: uploaded.uri } : dataset
  if (!input?.uri) throw new Error(`job ${jobId}: the dataset's URI was not recorded`)
  return { header: true, separator: ',', ...input }
}

export class TrainingStager {
  constructor(
    private readonly staging: Staging,
    private readonly hdfs: WebHdfsClient,
  ) {}

  /** `<root>/tenants/<t>/runs/<jobId>`: the run's spec.json, metrics.json and model. */
  runDir(tenant: string, jobId: string) {
    return `${this.staging.tenantRoot(tenant)}/runs/${jobId}`
  }

  /**
   * Stages train.py and the job package's zip (once per content) and writes
   * runs/<jobId>/spec.json in the owner's area (as its user) for a job's training spec,
   * reading `uploaded` (a dataset's URI and format) when the spec names a dataset id;
   * returns the script's, the spec's and the zip's (`pyFiles`) URIs.
   * Idempotent: a re-entered worker may call it again.
   */
  async stage(
    owner: StagingOwner,
    jobId: string,
    t: TrainingSpec,
    uploaded?: { uri: string; format: string },
  ): Promise<{ script: string; spec: string; pyFiles: string[] }> {
    const input = inputOf(jobId, t.dataset, uploaded)
    const dir = this.runDir(owner.tenant, jobId)
    const spec = {
      jobId,
      input,
      label: t.label ?? null,
      features: t.features ?? null,
      task: t.task ?? ALGORITHMS[t.algorithm]!.task,
      algorithm: t.algorithm,
      params: t.params ?? {},
      split: { test: 0.2, seed: 42, ...t.split },
      crossValidation: t.crossValidation ?? null,
      evaluation: t.evaluation ?? null,
      missing: t.missing ?? null,
      standardize: t.standardize ?? null,
      classWeights: t.classWeights ?? null,
      output: this.staging.uri(dir),
    }
    const hdfs = this.hdfs.as(owner.user)
    await hdfs.mkdirs(dir)
    await hdfs.create(`${dir}/spec.json`, JSON.stringify(spec, null, 2), { overwrite: true })
    const script = await this.staging.artifact(TRAIN_SCRIPT)
    const pyFiles = [await stageJobPackage(this.staging)]
    return { script, spec: this.staging.uri(`${dir}/spec.json`), pyFiles }
  }

  /** runs/<jobId>/metrics.json, or undefined when it is not there. */
  metrics(tenant: string, jobId: string): Promise<Record<string, unknown> | undefined> {
    return this.readJson(`${this.runDir(tenant, jobId)}/metrics.json`)
  }

  /** A JSON file a job wrote, or undefined when it is not there. */
  async readJson(path: string): Promise<Record<string, unknown> | undefined> {
    try {
      const text = await this.hdfs.readFile(path)
      return JSON.parse(text.toString('utf8')) as Record<string, unknown>
    } catch (error) {
      if (error instanceof WebHdfsError && error.kind === 'not_found') return undefined
      throw error
    }
  }

  modelUri(tenant: string, jobId: string) {
    return this.staging.uri(`${this.runDir(tenant, jobId)}/model`)
  }
}
