/**
 * What a succeeded scoring job shows and leaves: its rows, its output file and the model it
 * scored; its output registered as a dataset of its tenant (once per job).
 */
import type { DatasetOwner, DatasetService } from '../../datasets/dataset-service.js'
import type { Job } from '../../domain/job-schema.js'
import type { OutputFile } from '../../domain/ports/job-kind.js'
import { errors } from '../../errors.js'
import { runOf } from '../../runs/run-area.js'
import { plotsOf } from '../../schemas/plots.js'
import type { ScoringResult } from './result-schema.js'
import { outputFormat, type ScoringSpec } from './spec.js'
import type { ScoringStager } from './stager.js'

export class ScoringResults {
  constructor(
    private readonly stager: ScoringStager,
    /** where outputs are registered as datasets; undefined: they are not */
    private readonly datasets: DatasetService | undefined,
    private readonly ownerOf: (tenant: string) => Promise<DatasetOwner>,
  ) {}

  /**
   * Registers a scoring job's output file as a dataset of its tenant (once per job);
   * false when there is nothing to register (no output yet, or registration is off).
   */
  async registerOutput(job: Job, spec: ScoringSpec): Promise<boolean> {
    if (!this.datasets) return false
    const file = await this.stager.outputFile(runOf(job))
    if (!file) return false
    const { name, version } = spec.resolved!
    await this.datasets.registerOutput(await this.ownerOf(job.tenant), job.id, {
      ...file,
      name: `${name}-v${version}-scored-${job.id}.${outputFormat(spec)}`,
      model: `${name}/${version}`,
    })
    return true
  }

  /** Of these succeeded jobs, the scoring ones whose output's registration is not decided. */
  async undecided(jobIds: string[]): Promise<string[]> {
    return (await this.datasets?.outputsUndecided(jobIds)) ?? []
  }

  /** runs/<jobId>/scoring.json (a succeeded job left one: 409 when it is not there). */
  async report(job: Job) {
    const report = await this.stager.report(runOf(job))
    if (!report) throw errors.resultMissing(job.id, 'scoring.json')
    return report
  }

  async result(job: Job, spec: ScoringSpec): Promise<ScoringResult> {
    const report = await this.report(job)
    const { name, version, alias } = spec.resolved!
    return {
      rows: { scored: report.rows.scored, withoutPrediction: report.rows.withoutPrediction ?? 0 },
      outputUri: report.output.uri,
      format: report.output.format,
      columns: report.output.columns ?? [],
      model: { name, version, ...(alias ? { alias } : {}) },
      ...(report.distribution ? { distribution: report.distribution } : {}),
      plots: plotsOf(report),
      ...(await this.outputDataset(job)),
    }
  }

  /** The one file a succeeded scoring job wrote: its URI, size and format. */
  async output(job: Job, spec: ScoringSpec): Promise<OutputFile> {
    const file = await this.stager.outputFile(runOf(job))
    if (!file) {
      const registration = await this.datasets?.outputOf(job.id)
      throw errors.resultMissing(
        job.id,
        registration && 'id' in registration
          ? `scored output: it was registered as dataset ${registration.id}, which was deleted`
          : 'scored output',
      )
    }
    return { ...file, format: outputFormat(spec) }
  }

  /** The dataset a scoring job's output became, or why there is none. */
  private async outputDataset(job: Job): Promise<Pick<ScoringResult, 'dataset' | 'datasetNote'>> {
    const none = (datasetNote: string) => ({ dataset: null, datasetNote })
    if (!this.datasets) return { dataset: null }
    const registration = await this.datasets.outputOf(job.id)
    if (!registration) return none('not registered as a dataset yet (the tracker does it shortly)')
    if ('refused' in registration)
      return none(`not registered as a dataset: ${registration.refused}`)
    const dataset = await this.datasets.find(job.tenant, registration.id)
    if (!dataset) return none(`registered as dataset ${registration.id}, since deleted`)
    return { dataset: { id: dataset.id, name: dataset.name } }
  }
}
