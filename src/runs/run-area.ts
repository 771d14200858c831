/**
 * A job's run folder, in its tenant's area of the store its backend's Spark reads (HDFS,
 * or a Synapse pool's storage account): what Sparkgate's own PySpark jobs (jobs/train.py,
 * jobs/score.py) are given and what they write back.
 *
 *   <tenant root>/runs/<jobId>/spec.json      the spec the job runs
 *   <tenant root>/runs/<jobId>/metrics.json   a training's metrics; model/ beside it
 *   <tenant root>/runs/<jobId>/scoring.json   a scoring's rows and output; scored/ beside it
 *   <tenant root>/runs/<jobId>/error.json     why a failed attempt failed: {code, message, type}
 *   <tenant root>/runs/<jobId>/plots/<name>.png   the run's figures (jobs/sparkgate_jobs/plots.py),
 *                                             listed as `plots` in metrics.json / scoring.json
 *
 * Shared by the job kinds that stage runs and the model registries that read them.
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'
import type { FileStore, StagingOwner } from '../storage/file-store.js'
import type { Stores } from '../storage/stores.js'
import { PLOT_NAME } from '../schemas/plots.js'
import { stageJobPackage } from './job-package.js'
import { ENGINE_SCRIPT } from './job-scripts.js'

/** What a failed run writes beside its spec.json (jobs/sparkgate_jobs/runner.py). */
const ERROR_FILE = 'error.json'
/** the longest error message kept from it (the job cuts its own at the same length) */
const MAX_MESSAGE = 4000

/** A run: its job and tenant, and the backend it ran on (which names its store). */
export interface RunRef {
  tenant: string
  jobId: string
  /** the job's backend; the gateway's HDFS when absent */
  backend?: string
  /** the job's name (what a run's plots say they are of) */
  name?: string
}

/** The run of a job record. */
export function runOf(job: { id: string; tenant: string; backend: string; name?: string }): RunRef {
  return { tenant: job.tenant, jobId: job.id, backend: job.backend, name: job.name }
}

export class RunArea {
  constructor(readonly stores: Stores) {}

  /** The store a run lives in: its backend's. */
  storeOf(run: RunRef): FileStore {
    return this.stores.of(run.backend)
  }

  /** `<root>/tenants/<t>/runs/<jobId>`: the run's spec.json, metrics.json and model. */
  runDir(run: RunRef) {
    return `${this.storeOf(run).tenantRoot(run.tenant)}/runs/${run.jobId}`
  }

  /** The run folder's URI (what the job writes to). */
  runUri(run: RunRef) {
    return this.storeOf(run).uri(this.runDir(run))
  }

  /**
   * Writes a run's spec.json in the owner's area (as its user) and stages the script that
   * runs it with the zip of the package it imports (each once per content); their URIs.
   * An earlier attempt's error.json goes: each attempt is staged, and its failure must not
   * read the one before's reason (the job removes it when it starts, too).
   * Idempotent: a re-entered worker may call it again.
   */
  async stageRun(owner: StagingOwner, run: RunRef, script: string, spec: object) {
    const store = this.storeOf(run)
    const dir = this.runDir(run)
    await store.tenantArea(owner)
    await store.discard(`${dir}/${ERROR_FILE}`)
    await store.writeFile(`${dir}/spec.json`, JSON.stringify(spec, null, 2), owner)
    return {
      script: await store.artifactBytes(await readFile(script), basename(script)),
      spec: store.uri(`${dir}/spec.json`),
      pyFiles: [await stageJobPackage(store)],
    }
  }

  /**
   * Stages a warm engine's files in the owner's area of `store`: the engine's script and the
   * package zip (once per content), and its token in `<tenant root>/engines/<id>/token`,
   * written as the tenant's cluster user (in its own area, which no other tenant's job may
   * name). Their URIs.
   */
  async stageEngine(owner: StagingOwner, store: FileStore, engineId: string, token: string) {
    await store.tenantArea(owner)
    const tokenPath = `${store.tenantRoot(owner.tenant)}/engines/${engineId}/token`
    await store.writeFile(tokenPath, token, owner)
    return {
      script: await store.artifactBytes(await readFile(ENGINE_SCRIPT), basename(ENGINE_SCRIPT)),
      token: store.uri(tokenPath),
      pyFiles: [await stageJobPackage(store)],
    }
  }

  /** Removes an ended engine's folder (its token). */
  async discardEngine(store: FileStore, tenant: string, engineId: string) {
    await store.discard(`${store.tenantRoot(tenant)}/engines/${engineId}`)
  }

  /** runs/<jobId>/metrics.json, or undefined when it is not there. */
  metrics(run: RunRef): Promise<Record<string, unknown> | undefined> {
    return this.readJson(this.storeOf(run), `${this.runDir(run)}/metrics.json`)
  }

  /**
   * The message of runs/<jobId>/error.json: why the run's last attempt failed, in its own
   * words; undefined when it wrote none. Unreadable (the store down, not JSON): it throws.
   */
  async reportedError(run: RunRef): Promise<string | undefined> {
    const report = await this.readJson(this.storeOf(run), `${this.runDir(run)}/${ERROR_FILE}`)
    const message = report?.['message']
    return typeof message === 'string' && message.trim()
      ? message.trim().slice(0, MAX_MESSAGE)
      : undefined
  }

  /** runs/<jobId>/plots/<name>.png; undefined when it is not there. */
  plot(run: RunRef, name: string): Promise<Buffer | undefined> {
    if (!PLOT_NAME.test(name)) return Promise.resolve(undefined)
    return this.storeOf(run).readFile(`${this.runDir(run)}/plots/${name}.png`)
  }

  /** A JSON file a job wrote, or undefined when it is not there. */
  async readJson(store: FileStore, path: string): Promise<Record<string, unknown> | undefined> {
    const bytes = await store.readFile(path)
    return bytes === undefined
      ? undefined
      : (JSON.parse(bytes.toString('utf8')) as Record<string, unknown>)
  }

  /** The fitted PipelineModel of a training run. */
  modelUri(run: RunRef) {
    return this.storeOf(run).uri(`${this.runDir(run)}/model`)
  }

  /** Whether a model URI lies in the tenant's own area (runs/ of its training jobs), in any store. */
  inArea(tenant: string, uri: string) {
    const store = this.stores.ofUri(uri)
    return store?.pathOf(uri)?.startsWith(`${store.tenantRoot(tenant)}/runs/`) === true
  }

  /** The feature columns of a model (metrics.json beside it); undefined when unknown. */
  async features(modelUri: string): Promise<string[] | undefined> {
    const uri = modelUri.replace(/\/+$/, '')
    const store = this.stores.ofUri(uri)
    const path = store?.pathOf(uri)
    if (!store || !path) return undefined
    const metrics = await this.readJson(store, `${path.replace(/\/[^/]*$/, '')}/metrics.json`)
    const features = metrics?.['features']
    return Array.isArray(features) ? features.map(String) : undefined
  }
}
