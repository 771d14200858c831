/**
 * Staging a training job for the cluster: jobs/train.py and the zip of the package it
 * runs (src/runs/job-package.ts) once per content under artifacts/, the run's spec.json under runs/<jobId>/ (metrics.json and the model are
 * written beside it by the job).
 */
import { inputOf } from '../../datasets/dataset-input.js'
import { TRAIN_SCRIPT } from '../../runs/job-scripts.js'
import type { RunArea, RunRef } from '../../runs/run-area.js'
import type { StagingOwner } from '../../storage/file-store.js'
import { ALGORITHMS } from './algorithms.js'
import type { TrainingSpec } from './spec.js'

export class TrainingStager {
  constructor(private readonly runs: RunArea) {}

  /**
   * Stages train.py and the job package's zip (once per content) and writes
   * runs/<jobId>/spec.json in the owner's area (as its user) for a job's training spec,
   * reading `uploaded` (a dataset's URI and format) when the spec names a dataset id;
   * returns the script's, the spec's and the zip's (`pyFiles`) URIs.
   * Idempotent: a re-entered worker may call it again.
   */
  async stage(
    owner: StagingOwner,
    run: RunRef,
    t: TrainingSpec,
    uploaded?: { uri: string; format: string },
  ): Promise<{ script: string; spec: string; pyFiles: string[] }> {
    const input = inputOf(run.jobId, t.dataset, uploaded)
    const spec = {
      jobId: run.jobId,
      jobName: run.name ?? run.jobId,
      modelName: t.modelName ?? run.name ?? run.jobId,
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
      plots: t.plots ?? true,
      output: this.runs.runUri(run),
    }
    return this.runs.stageRun(owner, run, TRAIN_SCRIPT, spec)
  }
}
