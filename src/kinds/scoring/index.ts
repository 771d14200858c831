/**
 * The scoring kind: batch scoring of a dataset with a trained model (jobs/score.py). At
 * accept time the model is resolved in the registry of record (and pinned on the spec, so
 * every attempt scores the same version) and the dataset's columns are checked against
 * its features; when the tracker sees the job succeed, its output becomes a dataset of the
 * tenant; its result is the rows scored, the output and the model.
 */
import { acceptInput, inputUris, placeInputs, uploadedInput } from '../../datasets/dataset-input.js'
import { defineJobKind } from '../../domain/ports/job-kind.js'
import { errors } from '../../errors.js'
import { runOf } from '../../runs/run-area.js'
import { plotsOf } from '../../schemas/plots.js'
import { stagedBatch } from '../../runs/staged-run.js'
import { checkScoring } from './checks.js'
import { ScoringResults } from './results.js'
import { ScoringResultSchema } from './result-schema.js'
import { ScoringSpecSchema, type ScoringSpec } from './spec.js'
import { ScoringStager } from './stager.js'

export const scoringKind = defineJobKind<ScoringSpec>({
  name: 'scoring',
  summary: 'scoring (a trained model on a dataset)',
  specSchema: ScoringSpecSchema,
  resultSchema: ScoringResultSchema,
  events: [],
  create: ({ datasets, runs, models, ownerOf }) => {
    const stager = new ScoringStager(runs)
    const results = new ScoringResults(stager, datasets, ownerOf)
    return {
      name: 'scoring',
      runsInEngine: true,
      policyRefs: (spec) => ({ uris: inputUris('scoring', spec.dataset) }),
      async accept(tenant, spec, target) {
        // a scoring job scores the version resolved now, on every attempt
        const resolved = await models.resolve(tenant.id, spec.model, 'body.scoring.model')
        // its Spark reads the model where it lies: in the store the backend reads
        const holder = runs.stores.ofUri(resolved.uri)
        if (holder && holder !== target)
          throw errors.validation(
            'body.scoring.model',
            'reachable',
            `names ${resolved.name}/${resolved.version}, whose model lies in ${holder.id}, which the job's backend does not read (it reads ${target.id}); score on a backend that reads it, or train the model on this one`,
          )
        const accepted = await acceptInput(
          datasets,
          tenant.id,
          'scoring',
          spec.dataset,
          async (d) => {
            if (d) checkScoring(await runs.features(resolved.uri), d)
          },
          target,
        )
        return {
          ...accepted,
          spec: { ...spec, resolved },
          // score.py, its spec and its output live in the store the backend reads
          requires: { readsStagedFiles: 'body.scoring' },
        }
      },
      // what Sparkgate resolved is no part of the request (a replay may resolve anew)
      requestOf: (spec) => ({ ...spec, resolved: undefined }),
      async stage(job, spec) {
        const owner = { tenant: job.tenant, user: job.internals?.clusterUser ?? job.tenant }
        await placeInputs(datasets, job, runs.storeOf(runOf(job)))
        const staged = await stager.stage(owner, runOf(job), spec, uploadedInput(job, spec.dataset))
        return { trainScript: staged.script, trainSpec: staged.spec, trainPyFiles: staged.pyFiles }
      },
      batch: (job) => stagedBatch('scoring', job.id, job.internals),
      beforeSucceeded: (job, spec) => results.registerOutput(job, spec),
      unfinished: (ids) => results.undecided(ids),
      reportedError: (job) => runs.reportedError(runOf(job)),
      outcome: async (job) => ((await stager.report(runOf(job))) ? 'succeeded' : undefined),
      result: (job, spec) => results.result(job, spec),
      output: (job, spec) => results.output(job, spec),
      open: (uri) => stager.open(uri),
      plots: async (job) => plotsOf(await results.report(job)),
      plot: (job, _spec, name) => runs.plot(runOf(job), name),
    }
  },
})
