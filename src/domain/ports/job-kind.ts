/**
 * The job kind port: what the job core needs from a kind of job (batch, training,
 * scoring, …) and nothing more. The core — the service, the store, the state machine,
 * the submit worker and the tracker — knows a job's kind only through this port; each
 * kind is one folder under src/kinds/ exporting one definition, listed in
 * src/kinds/registry.ts. A job names its kind by the one spec field it carries
 * (`batch`, `training`, `scoring`: the kind's name).
 *
 *   accept ── policyRefs (core checks them) ── accept (datasets, models) ── recorded
 *   submit ── stage (files on the store) ── batch (file, args, py-files…) ── backend
 *   track  ── outcome (backend forgot the batch) ── beforeSucceeded ── repair (lost steps)
 *          ── reportedError (why a failed job says it failed)
 *   read   ── result (GET …/result) ── output/open (GET …/output)
 *          ── plots/plot (GET …/result/plots[/{name}]: the run's figures)
 */
import type { Readable } from 'node:stream'
import type { TSchema } from 'typebox'
import type { DatasetOwner, DatasetService } from '../../datasets/dataset-service.js'
import type { ModelRegistry } from '../../models/model-registry.js'
import type { RunArea } from '../../runs/run-area.js'
import type { RunPlot } from '../../schemas/plots.js'
import type { FileStore } from '../../storage/file-store.js'
import type { Stores } from '../../storage/stores.js'
import type { Tenant } from '../../tenancy/tenant-schema.js'
import type { Job, JobRecord } from '../job-schema.js'
import type { BackendCapabilities, BatchSubmission } from './spark-backend.js'

/** What a kind found when a job was accepted. */
export interface Accepted {
  /** the uploaded datasets the job reads (checked to exist, and told of it) */
  ids: string[]
  /** where the request names each of them (for a 400 when one is gone) */
  fields: Record<string, string>
  /** each dataset:// reference → the URI it runs with (public, the job's `inputs`) */
  inputs: Record<string, string>
  /** what the kind keeps of the job beside its public record */
  internals?: Record<string, unknown>
  /** the kind's spec as recorded, when it differs from the request's (a resolved model) */
  spec?: unknown
  /** where the request names what Sparkgate stages (a 400 for a backend that cannot read it) */
  stagedField: string
  /** what the job needs of its backend beyond running a batch: each capability, and where the request asks for it (a 400 for a backend without it) */
  requires?: Partial<Record<keyof BackendCapabilities, string>>
}

/** The batch a job runs; the core adds its name, its queue, its cluster user and its resources. */
export type BatchFiles = Omit<
  BatchSubmission,
  | 'name'
  | 'queue'
  | 'proxyUser'
  | 'driverMemory'
  | 'driverCores'
  | 'executorMemory'
  | 'executorCores'
  | 'numExecutors'
>

/** One file a job wrote, served by GET /v1/jobs/{id}/output. */
export interface OutputFile {
  /** where it lies (hdfs://…, abfss://…) */
  uri: string
  length: number
  format: string
}

/** A kind at work: its spec's checks, staging, batch and results, bound to the platform. */
export interface JobKind<S = unknown> {
  readonly name: string
  /**
   * Runs in a tenant's warm engine (src/engines/, jobs/sparkgate_jobs/engine.py) when its
   * job asks: Sparkgate's own script, the run's spec.json its one argument. Never a user's file.
   */
  readonly runsInEngine?: boolean
  /** The URIs (request field, URI) and Spark conf of a spec that the tenant's policy must allow. */
  policyRefs(spec: S): { uris: [string, string][]; conf?: Record<string, string> }
  /**
   * Checks what the schema cannot and resolves what the spec names (datasets, a model);
   * `target` is the store the job's backend reads (its datasets run from there).
   */
  accept(tenant: Tenant, spec: S, target: FileStore): Promise<Accepted>
  /** The request's spec without what Sparkgate resolved (idempotency compares requests). */
  requestOf?(spec: S): S
  /** Stages what the batch needs (idempotent); fields merged into the job's internals. */
  stage?(job: JobRecord, spec: S): Promise<Record<string, unknown> | undefined>
  /** The batch that runs the job (throws when what it needs was not staged). */
  batch(job: JobRecord, spec: S): BatchFiles
  /**
   * Runs before the job is marked succeeded (a model recorded, an output registered): a
   * client that sees it succeeded sees what it made. Its answer: undefined or false when
   * there was nothing to do yet (the repair pass tries again).
   */
  beforeSucceeded?(job: Job, spec: S): Promise<unknown>
  /** Of these succeeded jobs of the kind, those whose success step is not complete. */
  unfinished?(jobIds: string[]): Promise<string[]>
  /**
   * The reason a failed job gave in its own output (train.py's or score.py's error.json),
   * read when its application fails; undefined when it wrote none. The tracker prefers it
   * to the log's SPARKGATE_ERROR line (in YARN cluster mode the driver's log is not the
   * backend's) and falls back to that line when this is undefined or throws.
   */
  reportedError?(job: Job, spec: S): Promise<string | undefined>
  /** What the job wrote tells its outcome when the backend forgot its batch. */
  outcome?(job: Job, spec: S): Promise<'succeeded' | undefined>
  /** GET /v1/jobs/{id}/result of a succeeded job. */
  result?(job: Job, spec: S): Promise<Record<string, unknown>>
  /** GET /v1/jobs/{id}/output: the one file a succeeded job wrote. */
  output?(job: Job, spec: S): Promise<OutputFile>
  /** The bytes of a file output() named, by its URI. */
  open?(uri: string): Promise<Readable>
  /** GET /v1/jobs/{id}/result/plots: the figures a succeeded job's run drew ([] for none). */
  plots?(job: Job, spec: S): Promise<RunPlot[]>
  /** One of them as a PNG; undefined when the run did not draw it. */
  plot?(job: Job, spec: S, name: string): Promise<Buffer | undefined>
}

/** What the platform hands a kind when the gateway starts. */
export interface KindContext {
  /** each backend's store (where its Spark reads) */
  stores: Stores
  /** a job's run folder (spec.json, metrics.json, model/, scoring.json) */
  runs: RunArea
  /** uploaded datasets; undefined in a gateway without them */
  datasets?: DatasetService
  /** the registry of record */
  models: ModelRegistry
  /** who owns a tenant's datasets (a scoring output becomes one) */
  ownerOf: (tenant: string) => Promise<DatasetOwner>
}

/** A kind as registered: its name, its part of the job spec, and how to make it. */
export interface JobKindDefinition<S = unknown> {
  /** the job spec's field that carries it */
  readonly name: string
  /** how JobSpec's description names it, e.g. "batch (your own Spark code)" */
  readonly summary: string
  /** its spec's schema: validation, its TypeScript type and OpenAPI */
  readonly specSchema: TSchema
  /** the shape of its result (GET /v1/jobs/{id}/result), when it has one */
  readonly resultSchema?: TSchema
  /** the event types it adds to a tenant's stream, beyond the job's own */
  readonly events: readonly string[]
  create(context: KindContext): JobKind<S>
}

/** Declares a job kind (src/kinds/<kind>/index.ts). */
export function defineJobKind<S>(definition: JobKindDefinition<S>): JobKindDefinition<S> {
  return definition
}
