/**
 * The training kind: declarative Spark MLlib training (jobs/train.py). At accept time the
 * spec is checked against the algorithm's allow-list and the dataset's columns; the
 * submit worker stages train.py and the run's spec.json; when the tracker sees the job
 * succeed, its model is recorded in the registry of record before the job is marked
 * succeeded; its result is metrics.json with the model's URI, name and version.
 */
import { acceptInput, inputUris, placeInputs, uploadedInput } from '../../datasets/dataset-input.js'
import { errors } from '../../errors.js'
import { defineJobKind } from '../../domain/ports/job-kind.js'
import type { TrainedRun } from '../../models/model-version.js'
import { runOf } from '../../runs/run-area.js'
import { plotsOf } from '../../schemas/plots.js'
import { stagedBatch } from '../../runs/staged-run.js'
import { checkTraining } from './checks.js'
import { TrainingResultSchema } from './result-schema.js'
import { TrainingSpecSchema, type TrainingSpec } from './spec.js'
import { TrainingStager } from './stager.js'

export const trainingKind = defineJobKind<TrainingSpec>({
  name: 'training',
  summary: 'training (declarative MLlib)',
  specSchema: TrainingSpecSchema,
  resultSchema: TrainingResultSchema,
  events: ['dev.sparkgate.model.version.registered'],
  create: ({ datasets, runs, models }) => {
    const stager = new TrainingStager(runs)
    return {
      name: 'training',
      runsInEngine: true,
      policyRefs: (spec) => ({ uris: inputUris('training', spec.dataset) }),
      accept: async (tenant, spec, target) => ({
        ...(await acceptInput(
          datasets,
          tenant.id,
          'training',
          spec.dataset,
          (d) => checkTraining(spec, d),
          target,
        )),
        // train.py, its spec and its model live in the store the backend reads
        requires: { readsStagedFiles: 'body.training' },
      }),
      async stage(job, spec) {
        const owner = { tenant: job.tenant, user: job.internals?.clusterUser ?? job.tenant }
        await placeInputs(datasets, job, runs.storeOf(runOf(job)))
        const staged = await stager.stage(owner, runOf(job), spec, uploadedInput(job, spec.dataset))
        return { trainScript: staged.script, trainSpec: staged.spec, trainPyFiles: staged.pyFiles }
      },
      batch: (job) => stagedBatch('training', job.id, job.internals),
      beforeSucceeded(job, spec) {
        const run: TrainedRun = {
          tenant: job.tenant,
          jobId: job.id,
          backend: job.backend,
          jobName: job.name,
          spec,
          finishedAt: job.finishedAt ?? new Date().toISOString(),
        }
        return models.record(run)
      },
      unfinished: (ids) => models.unrecorded(ids),
      reportedError: (job) => runs.reportedError(runOf(job)),
      // a training job that wrote metrics.json succeeded
      outcome: async (job) => ((await runs.metrics(runOf(job))) ? 'succeeded' : undefined),
      async plots(job) {
        const metrics = await runs.metrics(runOf(job))
        if (!metrics) throw errors.resultMissing(job.id)
        return plotsOf(metrics)
      },
      plot: (job, _spec, name) => runs.plot(runOf(job), name),
      async result(job, spec) {
        const metrics = await runs.metrics(runOf(job))
        if (!metrics) throw errors.resultMissing(job.id)
        // the number of the registry of record (the one /v1/models shows and scoring takes)
        const { modelVersion, mlflow } = await models.recordOf(job.id)
        return {
          ...metrics,
          modelUri: runs.modelUri(runOf(job)),
          modelName: spec.modelName ?? job.name,
          modelVersion,
          mlflow,
        }
      },
    }
  },
})
