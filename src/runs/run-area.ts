/**
 * A job's run folder on HDFS, in its tenant's area: what Sparkgate's own PySpark jobs
 * (jobs/train.py, jobs/score.py) are given and what they write back.
 *
 *   <tenant root>/runs/<jobId>/spec.json      the spec the job runs
 *   <tenant root>/runs/<jobId>/metrics.json   a training's metrics; model/ beside it
 *   <tenant root>/runs/<jobId>/scoring.json   a scoring's rows and output; scored/ beside it
 *   <tenant root>/runs/<jobId>/error.json     why a failed attempt failed: {code, message, type}
 *
 * Shared by the job kinds that stage runs and the model registries that read them.
 */
import type { Staging, StagingOwner } from '../datasets/staging.js'
import { WebHdfsError, type WebHdfsClient } from '../storage/webhdfs-client.js'
import { stageJobPackage } from './job-package.js'

/** What a failed run writes beside its spec.json (jobs/sparkgate_jobs/runner.py). */
const ERROR_FILE = 'error.json'
/** the longest error message kept from it (the job cuts its own at the same length) */
const MAX_MESSAGE = 4000

export class RunArea {
  constructor(
    readonly staging: Staging,
    readonly hdfs: WebHdfsClient,
  ) {}

  /** `<root>/tenants/<t>/runs/<jobId>`: the run's spec.json, metrics.json and model. */
  runDir(tenant: string, jobId: string) {
    return `${this.staging.tenantRoot(tenant)}/runs/${jobId}`
  }

  /**
   * Writes a run's spec.json in the owner's area (as its user) and stages the script that
   * runs it with the zip of the package it imports (each once per content); their URIs.
   * An earlier attempt's error.json goes: each attempt is staged, and its failure must not
   * read the one before's reason (the job removes it when it starts, too).
   * Idempotent: a re-entered worker may call it again.
   */
  async stageRun(owner: StagingOwner, jobId: string, script: string, spec: object) {
    const dir = this.runDir(owner.tenant, jobId)
    const hdfs = this.hdfs.as(owner.user)
    await this.staging.tenantArea(owner)
    await hdfs.mkdirs(dir)
    await hdfs.delete(`${dir}/${ERROR_FILE}`)
    await hdfs.create(`${dir}/spec.json`, JSON.stringify(spec, null, 2), { overwrite: true })
    return {
      script: await this.staging.artifact(script),
      spec: this.staging.uri(`${dir}/spec.json`),
      pyFiles: [await stageJobPackage(this.staging)],
    }
  }

  /** runs/<jobId>/metrics.json, or undefined when it is not there. */
  metrics(tenant: string, jobId: string): Promise<Record<string, unknown> | undefined> {
    return this.readJson(`${this.runDir(tenant, jobId)}/metrics.json`)
  }

  /**
   * The message of runs/<jobId>/error.json: why the run's last attempt failed, in its own
   * words; undefined when it wrote none. Unreadable (HDFS down, not JSON): it throws.
   */
  async reportedError(tenant: string, jobId: string): Promise<string | undefined> {
    const report = await this.readJson(`${this.runDir(tenant, jobId)}/${ERROR_FILE}`)
    const message = report?.['message']
    return typeof message === 'string' && message.trim()
      ? message.trim().slice(0, MAX_MESSAGE)
      : undefined
  }

  /** A JSON file a job wrote, or undefined when it is not there. */
  async readJson(path: string): Promise<Record<string, unknown> | undefined> {
    try {
      const text = await (await this.staging.hdfsFor(path)).readFile(path)
      return JSON.parse(text.toString('utf8')) as Record<string, unknown>
    } catch (error) {
      if (error instanceof WebHdfsError && error.kind === 'not_found') return undefined
      throw error
    }
  }

  /** The fitted PipelineModel of a training run. */
  modelUri(tenant: string, jobId: string) {
    return this.staging.uri(`${this.runDir(tenant, jobId)}/model`)
  }

  /** The HDFS path of an hdfs:// URI of Sparkgate's file system; undefined for another. */
  pathOf(uri: string): string | undefined {
    const base = this.staging.uri('/')
    return uri.startsWith(base) ? uri.slice(base.length - 1) : undefined
  }

  /** Whether a model URI lies in the tenant's own area (runs/ of its training jobs). */
  inArea(tenant: string, uri: string) {
    return this.pathOf(uri)?.startsWith(`${this.staging.tenantRoot(tenant)}/runs/`) === true
  }

  /** The feature columns of a model (metrics.json beside it); undefined when unknown. */
  async features(modelUri: string): Promise<string[] | undefined> {
    const path = this.pathOf(modelUri.replace(/\/+$/, ''))
    if (!path) return undefined
    const metrics = await this.readJson(`${path.replace(/\/[^/]*$/, '')}/metrics.json`)
    const features = metrics?.['features']
    return Array.isArray(features) ? features.map(String) : undefined
  }
}
