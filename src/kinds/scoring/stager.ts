/**
 * Batch scoring's staging: jobs/score.py
 * (with the job package's zip as a py-file, as training does) and the run's spec.json, and
 * reading back what score.py wrote:
 *
 *   runs/<jobId>/spec.json      the input, the resolved model, the output format
 *   runs/<jobId>/scored/        one part file (csv with a header, or parquet)
 *   runs/<jobId>/scoring.json   rows, model, task, classes, the output's columns
 */
import { inputOf } from '../../datasets/dataset-input.js'
import { SCORE_SCRIPT } from '../../runs/job-scripts.js'
import type { RunArea, RunRef } from '../../runs/run-area.js'
import type { StagingOwner } from '../../storage/file-store.js'
import type { ScoringResult } from './result-schema.js'
import { outputFormat, type ScoringSpec } from './spec.js'

/** What score.py wrote to scoring.json (the fields the gateway reads). */
export interface ScoringReport extends Record<string, unknown> {
  rows: { scored: number; withoutPrediction?: number }
  output: { uri: string; format: 'csv' | 'parquet'; columns?: string[] }
  /** what the predictions look like (absent from runs before plots) */
  distribution?: ScoringResult['distribution']
}

export class ScoringStager {
  constructor(private readonly runs: RunArea) {}

  /**
   * Stages score.py and the job package's zip (once per content) and writes runs/<jobId>/spec.json in
   * the owner's area (as its user). Idempotent: a re-entered worker may call it again.
   */
  async stage(
    owner: StagingOwner,
    run: RunRef,
    s: ScoringSpec,
    uploaded?: { uri: string; format: string },
  ): Promise<{ script: string; spec: string; pyFiles: string[] }> {
    if (!s.resolved) throw new Error(`job ${run.jobId}: the model was not resolved`)
    const spec = {
      jobId: run.jobId,
      jobName: run.name ?? run.jobId,
      input: inputOf(run.jobId, s.dataset, uploaded),
      model: s.resolved,
      output: { uri: this.runs.runUri(run), format: outputFormat(s) },
    }
    return this.runs.stageRun(owner, run, SCORE_SCRIPT, spec)
  }

  /** runs/<jobId>/scoring.json, or undefined when it is not there. */
  async report(run: RunRef): Promise<ScoringReport | undefined> {
    const path = `${this.runs.runDir(run)}/scoring.json`
    return (await this.runs.readJson(this.runs.storeOf(run), path)) as ScoringReport | undefined
  }

  /** The one part file score.py wrote under runs/<jobId>/scored/: its URI and size. */
  async outputFile(run: RunRef) {
    const dir = `${this.runs.runDir(run)}/scored`
    const store = this.runs.storeOf(run)
    const part = (await store.list(dir)).find(
      (f) => f.type === 'FILE' && f.name.startsWith('part-'),
    )
    return part && { uri: store.uri(`${dir}/${part.name}`), length: part.length }
  }

  /** The bytes of a file a run wrote, by its URI. */
  async open(uri: string) {
    const store = this.runs.stores.holding(uri)
    return store.open(store.pathOf(uri) ?? uri)
  }
}
