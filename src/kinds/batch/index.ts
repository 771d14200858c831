/**
 * The batch kind: a user's own Spark application — a PySpark file or a jar, with args,
 * py-files, jars, files, archives, a packed Python environment and Spark conf — run as
 * given. Every URI (and URI-like arg) is checked against the tenant's policy;
 * `dataset://<id>` references run with the URI the dataset had when the job was accepted.
 */
import { defineJobKind } from '../../domain/ports/job-kind.js'
import { placeInputs } from '../../datasets/dataset-input.js'
import { errors } from '../../errors.js'
import { archiveBatch, archiveFields, archiveProblems } from './archives.js'
import { BatchSpecSchema, type BatchSpec } from './spec.js'

/** Every place of a batch spec that takes a URI (or an argument), with its field name. */
function referenceFields(b: BatchSpec): [string, string][] {
  const list = (name: string, values?: string[]) =>
    (values ?? []).map((v, i): [string, string] => [`body.batch.${name}.${i}`, v])
  return [
    ['body.batch.file', b.file],
    ...list('pyFiles', b.pyFiles),
    ...list('files', b.files),
    ...list('jars', b.jars),
    ...archiveFields(b),
    ...list('args', b.args),
  ]
}

export const batchKind = defineJobKind<BatchSpec>({
  name: 'batch',
  summary: 'batch (your own Spark code)',
  specSchema: BatchSpecSchema,
  events: [],
  create: ({ datasets, stores }) => ({
    name: 'batch',
    policyRefs: (spec) => ({ uris: referenceFields(spec), conf: spec.conf ?? {} }),
    async accept(tenant, spec, target) {
      const problems = archiveProblems(spec)
      if (problems.length > 0) throw errors.validationAll(problems)
      const resolved = datasets
        ? await datasets.resolve(tenant.id, referenceFields(spec), target)
        : { ids: [], inputs: {}, fields: {} }
      return {
        ...resolved,
        stagedField: 'body.batch',
        // ./sparkgate_pyenv/bin/python exists only where the archive unpacks into the cwd
        ...(spec.pythonEnv ? { requires: { workDirArchives: 'body.batch.pythonEnv' } } : {}),
      }
    },
    // the datasets it names, in the store its backend reads (a copy made once per store)
    stage: async (job) => {
      await placeInputs(datasets, job, stores.of(job.backend))
      return undefined
    },
    batch(job, spec) {
      // dataset://<id> references run with the URI recorded when the job was accepted
      const r = (value: string) => job.inputs?.[value] ?? value
      return {
        file: r(spec.file),
        ...(spec.className ? { className: spec.className } : {}),
        ...(spec.args ? { args: spec.args.map(r) } : {}),
        ...(spec.pyFiles ? { pyFiles: spec.pyFiles.map(r) } : {}),
        ...(spec.jars ? { jars: spec.jars.map(r) } : {}),
        ...(spec.files ? { files: spec.files.map(r) } : {}),
        ...archiveBatch(spec, r),
      }
    },
  }),
})
