/**
 * The data a declarative job (training, scoring) reads: an uploaded dataset by id, or
 * `{uri, format}` of data already on the cluster; and what it runs with once accepted.
 */
import { Type, type Static } from 'typebox'
import { errors } from '../errors.js'
import { ClusterUri } from '../schemas/common.js'
import type { Dataset } from './dataset-schema.js'
import type { FileStore } from '../storage/file-store.js'
import type { DatasetService } from './dataset-service.js'

/** An uploaded dataset id, or `{uri, format}` of data on the cluster (training and scoring). */
export const DatasetInputSchema = Type.Union(
  [
    Type.String({ pattern: '^[0-9a-f]{64}$', description: 'An uploaded dataset id.' }),
    Type.Object(
      {
        uri: ClusterUri,
        format: Type.Unsafe<'csv' | 'parquet' | 'json' | 'libsvm'>({
          type: 'string',
          enum: ['csv', 'parquet', 'json', 'libsvm'],
        }),
        header: Type.Optional(Type.Boolean({ description: 'CSV: first line is a header.' })),
        separator: Type.Optional(Type.String({ minLength: 1, maxLength: 1 })),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'A dataset id, or { uri, format } for data already on the cluster.' },
)
export type DatasetInput = Static<typeof DatasetInputSchema>

/** A reference to an uploaded dataset wherever a job takes a URI: `dataset://<id>`. */
export const DATASET_REF = /^dataset:\/\/([0-9a-f]{64})$/

/** The uploaded dataset an input names: its id, or `{uri: "dataset://<id>"}`. */
export function datasetIdOf(dataset: DatasetInput): string | undefined {
  if (typeof dataset === 'string') return dataset
  return DATASET_REF.exec(dataset.uri)?.[1]
}

/**
 * What a job reads: an uploaded dataset runs from the URI recorded at accept time (a
 * `{uri: dataset://…}` keeps its own format and CSV options).
 */
export function inputOf(
  jobId: string,
  dataset: DatasetInput,
  uploaded?: { uri: string; format: string },
) {
  const input =
    typeof dataset === 'string' ? uploaded : uploaded ? { ...dataset, uri: uploaded.uri } : dataset
  if (!input?.uri) throw new Error(`job ${jobId}: the dataset's URI was not recorded`)
  return { header: true, separator: ',', ...input }
}

/** What a declarative job's dataset input resolved to when the job was accepted. */
export interface AcceptedInput {
  ids: string[]
  fields: Record<string, string>
  inputs: Record<string, string>
  /** the uploaded dataset's format (for a dataset named by id), kept with the job */
  internals: { datasetFormat?: string }
  stagedField: string
}

/**
 * The uploaded dataset a declarative job (`kind`: training, scoring) reads, if its input
 * names one: found in the tenant's datasets (a 400 naming the field when not), then
 * checked by `check` (its columns, its format); an input on the cluster is checked alone.
 */
export async function acceptInput(
  datasets: DatasetService | undefined,
  tenant: string,
  kind: string,
  dataset: DatasetInput,
  check: (dataset?: Dataset) => void | Promise<void>,
  target?: FileStore,
): Promise<AcceptedInput> {
  const stagedField = `body.${kind}.dataset`
  const id = datasetIdOf(dataset)
  if (id === undefined) {
    await check()
    return { ids: [], inputs: {}, fields: {}, internals: {}, stagedField }
  }
  const field = typeof dataset === 'string' ? stagedField : `${stagedField}.uri`
  const found = await datasets?.find(tenant, id)
  if (!found) throw errors.unknownDatasetReference(field, id)
  await check(found)
  return {
    ids: [id],
    // where the job runs it from: in its backend's store (a copy there, made when it is staged)
    inputs: { [`dataset://${id}`]: target && datasets ? datasets.uriIn(found, target) : found.uri },
    fields: { [id]: field },
    internals: typeof dataset === 'string' ? { datasetFormat: found.format } : {},
    stagedField,
  }
}

/** The URI policy's view of an input: a `{uri}` the request names (a dataset id is ours). */
export function inputUris(kind: string, dataset: DatasetInput): [string, string][] {
  return typeof dataset === 'object' ? [[`body.${kind}.dataset.uri`, dataset.uri]] : []
}

/**
 * Puts each uploaded dataset a job reads in `target` (its backend's store) unless it lies
 * there: copied once per store (a job's staging step; idempotent).
 */
export async function placeInputs(
  datasets: DatasetService | undefined,
  job: {
    tenant: string
    inputs?: Record<string, string>
    internals?: Record<string, unknown>
  },
  target: FileStore,
): Promise<void> {
  if (!datasets) return
  const user = (job.internals?.['clusterUser'] as string | undefined) ?? job.tenant
  for (const reference of Object.keys(job.inputs ?? {})) {
    const id = DATASET_REF.exec(reference)?.[1]
    const dataset = id && (await datasets.find(job.tenant, id))
    if (dataset) await datasets.copyTo({ tenant: job.tenant, user }, dataset, target)
  }
}

/** The uploaded dataset a job reads, as recorded when it was accepted (URI and format). */
export function uploadedInput(
  job: { inputs?: Record<string, string>; internals?: Record<string, unknown> },
  dataset: DatasetInput,
): { uri: string; format: string } | undefined {
  const reference = typeof dataset === 'string' ? `dataset://${dataset}` : dataset.uri
  const uri = job.inputs?.[reference]
  const format = (job.internals?.['datasetFormat'] as string | undefined) ?? 'csv'
  return uri ? { uri, format } : undefined
}
