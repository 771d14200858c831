/**
 * A run staged for one of Sparkgate's own PySpark jobs: where the submit worker recorded
 * its files (kept with the job's internals, never shown), and the batch that runs it.
 */

/** Where the submit worker recorded a staged run (kept with the job, never shown). */
export interface StagedRun {
  /** URI of the staged script (train.py; score.py for a scoring job) */
  trainScript?: string
  /** URI of the run's spec.json */
  trainSpec?: string
  /** py-files of the staged script */
  trainPyFiles?: string[]
}

/** The batch of a staged run: its script with its spec.json as the one argument. */
export function stagedBatch(kind: string, jobId: string, internals?: Record<string, unknown>) {
  const {
    trainScript: file,
    trainSpec: spec,
    trainPyFiles: pyFiles,
  } = (internals ?? {}) as StagedRun
  if (!file || !spec) throw new Error(`${kind} job ${jobId} was not staged`)
  return { file, args: [spec], ...(pyFiles ? { pyFiles } : {}) }
}
