/**
 * Batch scoring's staging: jobs/score.py
 * (with the job package's zip as a py-file, as training does) and the run's spec.json, and
 * reading back what score.py wrote:
 *
 *   runs/<jobId>/spec.json      the input, the resolved model, the output format
 *   runs/<jobId>/scored/        one part file (csv with a header, or parquet)
 *   runs/<jobId>/scoring.json   rows, model, task, classes, the output's columns
 */
import type { StagingOwner } from '../../datasets/staging.js'
import { inputOf } from '../../datasets/dataset-input.js'
import { SCORE_SCRIPT } from '../../runs/job-scripts.js'
import type { RunArea } from '../../runs/run-area.js'
import { outputFormat, type ScoringSpec } from './spec.js'

/** What score.py wrote to scoring.json (the fields the gateway reads). */
export interface ScoringReport extends Record<string, unknown> {
  rows: { scored: number; withoutPrediction?: number }
  output: { uri: string; format: 'csv' | 'parquet'; columns?: string[] }
}

export class ScoringStager {
  constructor(private readonly runs: RunArea) {}

  /**
   * Stages score.py and the job package's zip (once per content) and writes runs/<jobId>/spec.json in
   * the owner's area (as its user). Idempotent: a re-entered worker may call it again.
   */
  async stage(
    owner: StagingOwner,
    jobId: string,
    s: ScoringSpec,
    uploaded?: { uri: string; format: string },
  ): Promise<{ script: string; spec: string; pyFiles: string[] }> {
    if (!s.resolved) throw new Error(`job ${jobId}: the model was not resolved`)
    const dir = this.runs.runDir(owner.tenant, jobId)
    const spec = {
      jobId,
      input: inputOf(jobId, s.dataset, uploaded),
      model: s.resolved,
      output: { uri: this.runs.staging.uri(dir), format: outputFormat(s) },
    }
    return this.runs.stageRun(owner, jobId, SCORE_SCRIPT, spec)
  }

  /** runs/<jobId>/scoring.json, or undefined when it is not there. */
  async report(tenant: string, jobId: string): Promise<ScoringReport | undefined> {
    const path = `${this.runs.runDir(tenant, jobId)}/scoring.json`
    return (await this.runs.readJson(path)) as ScoringReport | undefined
  }

  /** The one part file score.py wrote under runs/<jobId>/scored/, with its size. */
  async outputFile(tenant: string, jobId: string) {
    const dir = `${this.runs.runDir(tenant, jobId)}/scored`
    const hdfs = await this.runs.staging.hdfsFor(dir)
    const part = (await hdfs.listStatus(dir)).find(
      (f) => f.type === 'FILE' && f.pathSuffix.startsWith('part-'),
    )
    return part && { path: `${dir}/${part.pathSuffix}`, length: part.length }
  }

  async open(path: string) {
    return (await this.runs.staging.hdfsFor(path)).open(path)
  }
}
