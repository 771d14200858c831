/** The batch spec: your own PySpark file or jar, with its args, files and Spark conf. */
import { Type, type Static } from 'typebox'
import { ClusterUri } from '../../schemas/common.js'

export const BatchSpecSchema = Type.Object(
  {
    file: ClusterUri,
    className: Type.Optional(
      Type.String({
        pattern: '^[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)*$',
        maxLength: 512,
      }),
    ),
    args: Type.Optional(Type.Array(Type.String({ maxLength: 8192 }), { maxItems: 1000 })),
    pyFiles: Type.Optional(Type.Array(ClusterUri, { maxItems: 100 })),
    jars: Type.Optional(Type.Array(ClusterUri, { maxItems: 100 })),
    files: Type.Optional(Type.Array(ClusterUri, { maxItems: 100 })),
    conf: Type.Optional(
      Type.Unsafe<Record<string, string>>({
        type: 'object',
        propertyNames: { pattern: '^spark\\.[A-Za-z0-9_.-]+$', maxLength: 256 },
        additionalProperties: { type: 'string', maxLength: 8192 },
        maxProperties: 500,
        description: 'Spark configuration; keys must start with spark.',
      }),
    ),
  },
  { additionalProperties: false, description: 'Run your own PySpark file or jar.' },
)
export type BatchSpec = Static<typeof BatchSpecSchema>
