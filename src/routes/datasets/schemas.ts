/** Request and response schemas of /v1/datasets. */
import { Type } from 'typebox'
import { DatasetName, DatasetRef } from '../../datasets/dataset-schema.js'
import { IdParams, Page, Paging } from '../../schemas/common.js'

export { Problem } from '../../schemas/common.js'

export const DatasetIdParams = IdParams(
  'dataset',
  'the SHA-256 of its bytes, 64 lowercase hex digits; any other string names no dataset (404)',
)

export const UploadQuery = Type.Object(
  {
    name: Type.Optional({
      ...DatasetName,
      description:
        'File name of the dataset (its extension gives the format). Required for a raw body; a multipart upload defaults to its file name.',
    }),
    backend: Type.Optional(
      Type.String({
        pattern: '^[a-z][a-z0-9-]{0,62}$',
        description:
          'The backend whose jobs will read it: the dataset is staged in the store its Spark reads (HDFS for Livy and local backends; a Synapse backend’s storage account). Default: the default backend. A job on another backend runs from a copy, made once.',
      }),
    ),
  },
  { additionalProperties: false },
)

export const ListQuery = Type.Object({ ...Paging }, { additionalProperties: false })

export const PreviewQuery = Type.Object(
  { rows: Type.Integer({ minimum: 1, maximum: 1000, default: 20 }) },
  { additionalProperties: false },
)

export const DatasetList = Page(DatasetRef)

export const PreviewSchema = Type.Object({
  id: Type.String(),
  format: Type.String(),
  lines: Type.Array(Type.String(), { description: 'The first lines as text.' }),
  columns: Type.Optional(Type.Array(Type.String(), { description: 'CSV: the header.' })),
  rows: Type.Optional(
    Type.Array(Type.Array(Type.String()), { description: 'CSV: the rows, split into fields.' }),
  ),
})

/** For the OpenAPI document only (the route reads the raw stream itself). */
export const UploadBodyDoc = {
  content: {
    'application/octet-stream': {
      schema: { type: 'string', format: 'binary', description: 'The file, as the raw body.' },
    },
    'multipart/form-data': {
      schema: {
        type: 'object',
        properties: { file: { type: 'string', format: 'binary' } },
        required: ['file'],
      },
    },
  },
  required: true,
}
