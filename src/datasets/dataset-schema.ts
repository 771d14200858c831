/** TypeBox schemas of datasets: the API's validation, types and OpenAPI from one source. */
import { Type, type Static } from 'typebox'

export const DATASET_FORMATS = ['csv', 'json', 'parquet', 'libsvm', 'txt', 'other'] as const
export type DatasetFormat = (typeof DATASET_FORMATS)[number]

export const ColumnSchema = Type.Object({
  name: Type.String(),
  type: Type.Unsafe<'integer' | 'double' | 'boolean' | 'string'>({
    type: 'string',
    enum: ['integer', 'double', 'boolean', 'string'],
    description: 'Sniffed from the first rows: integer, double, boolean or string.',
  }),
})
export type Column = Static<typeof ColumnSchema>

export const DatasetSchema = Type.Object(
  {
    id: Type.String({ description: 'The SHA-256 of the bytes (content address).' }),
    name: Type.String(),
    size: Type.Integer({ description: 'Bytes.' }),
    sha256: Type.String(),
    uri: Type.String({
      description:
        'Where Spark reads it: hdfs://… on HDFS, abfss://… in the storage account of the backend it was uploaded for.',
    }),
    path: Type.String({ description: 'Its path in that store.' }),
    format: Type.Unsafe<DatasetFormat>({
      type: 'string',
      enum: [...DATASET_FORMATS],
      description: 'From the file extension: csv, json (.json, .jsonl), parquet, libsvm, txt.',
    }),
    columns: Type.Optional(
      Type.Array(ColumnSchema, { description: 'CSV only: the header line and sniffed types.' }),
    ),
    copies: Type.Optional(
      Type.Array(Type.String(), {
        description:
          'Its copies in other stores (abfss://…, hdfs://…): made once, the first time a job on a backend that reads that store used it; deleted with it.',
      }),
    ),
    source: Type.Optional(
      Type.Object(
        {
          jobId: Type.String({ description: 'The job that wrote it.' }),
          model: Type.String({ description: 'The model it scored with: <name>/<version>.' }),
        },
        {
          description:
            "Set when a scoring job's output was registered: the file stays under runs/<jobId>/scored/, so deleting the dataset deletes the job's output.",
        },
      ),
    ),
    createdAt: Type.String({ format: 'date-time' }),
  },
  { $id: 'Dataset' },
)
export type Dataset = Static<typeof DatasetSchema>
/** Dataset by reference: registered once (src/plugins/swagger.ts), named in OpenAPI. */
export const DatasetRef = Type.Unsafe<Dataset>(Type.Ref('Dataset'))

/** A file name as stored on HDFS: no path, no control characters, at most 255 bytes. */
export const DatasetName = Type.String({
  minLength: 1,
  maxLength: 255,
  // no '/', '\', ':' (HDFS refuses it in a path), control characters (C0, DEL, C1);
  // not '.' or '..'
  pattern: '^(?!\\.{1,2}$)[^/\\\\:\\u0000-\\u001f\\u007f-\\u009f]+$',
  description: 'File name: no "/", "\\", ":", ".." or control characters; at most 255 bytes.',
})

/** The same rules for names that arrive outside a schema (multipart file names). */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty'
  if (name === '.' || name === '..') return 'must not be "." or ".."'
  if (/[/\\]/.test(name)) return 'must not contain "/" or "\\"'
  if (name.includes(':')) return 'must not contain ":" (HDFS does not allow it in a path)'
  if (/\p{Cc}/u.test(name)) return 'must not contain control characters'
  if (Buffer.byteLength(name, 'utf8') > 255) return 'must be at most 255 bytes (UTF-8)'
  return undefined
}
