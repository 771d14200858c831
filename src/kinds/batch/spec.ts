/** The batch spec: your own PySpark file or jar, with its args, files and Spark conf. */
import { Type, type Static } from 'typebox'
import { ClusterUri } from '../../schemas/common.js'

const SCHEMES = '(hdfs|abfss|wasbs|s3a|gs|file|dataset)://'

/** An archive: a URI the cluster can read, or dataset://<id>, and an optional #alias. */
const ArchiveUri = Type.String({
  pattern: `^${SCHEMES}[^\\s#]+(#[A-Za-z0-9_-][A-Za-z0-9._-]*)?$`,
  maxLength: 2048,
  description:
    'A tar.gz, tgz, tar or zip the cluster unpacks into the working directory of the driver and executors, under its #alias (else its file name): e.g. dataset://<id>#deps, hdfs://nn:8020/shared/models.zip#models.',
})

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
    archives: Type.Optional(Type.Array(ArchiveUri, { maxItems: 100 })),
    pythonEnv: Type.Optional(
      Type.String({
        pattern: `^${SCHEMES}[^\\s#]+$`,
        maxLength: 2048,
        description:
          'A packed Python environment (venv-pack or conda-pack tar.gz), usually an uploaded dataset://<id>: unpacked by YARN as the archive sparkgate_pyenv and used as the Python of the driver and executors (spark.pyspark.python, spark.pyspark.driver.python, spark.yarn.appMasterEnv.PYSPARK_PYTHON = ./sparkgate_pyenv/bin/python). Needs a backend on YARN.',
      }),
    ),
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
