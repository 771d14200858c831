/**
 * Apache Livy's batch REST API as Sparkgate serves it under /livy: the request and the
 * answers with Livy's own JSON shapes (Livy 0.7's REST API document, "Batch" and its
 * endpoints), and its error body `{msg}`.
 */
import { Type, type Static } from 'typebox'

const Strings = (description: string) =>
  Type.Optional(Type.Array(Type.String({ maxLength: 8192 }), { maxItems: 1000, description }))

/** POST /livy/batches: Livy's CreateBatchRequest. */
export const LivyBatchRequest = Type.Object(
  {
    file: Type.String({ minLength: 1, maxLength: 2048, description: 'The file to run.' }),
    proxyUser: Type.Optional(
      Type.String({
        maxLength: 256,
        description: "The user to run as: the tenant's cluster user (any other is a 403).",
      }),
    ),
    className: Type.Optional(Type.String({ maxLength: 512, description: 'A jar’s main class.' })),
    args: Strings('Its command line arguments.'),
    jars: Strings('Jars on its class path.'),
    pyFiles: Strings('Python files on its path.'),
    files: Strings('Files in its working directory.'),
    archives: Strings('Archives unpacked in its working directory.'),
    driverMemory: Type.Optional(Type.String({ maxLength: 16 })),
    driverCores: Type.Optional(Type.Integer()),
    executorMemory: Type.Optional(Type.String({ maxLength: 16 })),
    executorCores: Type.Optional(Type.Integer()),
    numExecutors: Type.Optional(Type.Integer()),
    queue: Type.Optional(Type.String({ maxLength: 256, description: 'The YARN queue.' })),
    name: Type.Optional(Type.String({ maxLength: 128, description: 'The batch’s name.' })),
    conf: Type.Optional(
      Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]), {
        description:
          'Spark configuration (checked by the tenant’s policy). `spark.sparkgate.backend` and `spark.sparkgate.priority` choose the backend and the priority (1 highest … 10) and are not passed to Spark.',
      }),
    ),
  },
  { additionalProperties: false },
)
export type LivyBatchRequest = Static<typeof LivyBatchRequest>

export const LivyHeaders = Type.Object({
  'x-sparkgate-backend': Type.Optional(
    Type.String({ minLength: 1, maxLength: 64, description: 'The backend to run on.' }),
  ),
  'x-sparkgate-priority': Type.Optional(
    Type.String({ pattern: '^([1-9]|10)$', description: 'The priority: 1 (highest) … 10.' }),
  ),
  'idempotency-key': Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 255,
      description: 'The same key and body again → the same batch, never a second run.',
    }),
  ),
  'x-requested-by': Type.Optional(
    Type.String({ description: 'Accepted as Livy accepts it (its CSRF header).' }),
  ),
})

export const LivyState = Type.Unsafe<string>({
  type: 'string',
  enum: ['not_started', 'starting', 'running', 'success', 'dead', 'killed'],
  description:
    "Livy's state, from the job's: queued → not_started; staging, submitting, submitted → starting; running; succeeded → success; failed → dead; cancelled → killed.",
})

/** Livy's Batch object. */
export const LivyBatch = Type.Object(
  {
    id: Type.Integer({ description: 'The batch id: 0, 1, 2, … per tenant, stable.' }),
    name: Type.Union([Type.String(), Type.Null()]),
    owner: Type.String({ description: 'The tenant.' }),
    proxyUser: Type.String({ description: "The tenant's cluster user." }),
    state: LivyState,
    appId: Type.Union([Type.String(), Type.Null()]),
    appInfo: Type.Object({
      driverLogUrl: Type.Union([Type.String(), Type.Null()]),
      sparkUiUrl: Type.Union([Type.String(), Type.Null()]),
    }),
    log: Type.Array(Type.String(), { description: 'The last lines of its log.' }),
    sparkgateJob: Type.String({ description: 'The Sparkgate job (GET /v1/jobs/{id}).' }),
  },
  { $id: 'LivyBatch' },
)
export type LivyBatch = Static<typeof LivyBatch>
export const LivyBatchRef = Type.Unsafe<LivyBatch>(Type.Ref('LivyBatch'))

export const LivyBatchList = Type.Object({
  from: Type.Integer(),
  total: Type.Integer(),
  sessions: Type.Array(LivyBatchRef),
})

export const LivyListQuery = Type.Object(
  {
    from: Type.Integer({ minimum: 0, default: 0 }),
    size: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: true },
)

export const LivyLogQuery = Type.Object(
  {
    from: Type.Optional(Type.Integer({ minimum: 0 })),
    size: Type.Integer({ minimum: 0, maximum: 10000, default: 100 }),
  },
  { additionalProperties: true },
)

export const LivyIdParams = Type.Object({
  batchId: Type.String({ description: 'A batch id (an integer).' }),
})

export const LivyStateReply = Type.Object({ id: Type.Integer(), state: LivyState })

export const LivyLogReply = Type.Object({
  id: Type.Integer(),
  from: Type.Integer(),
  total: Type.Integer(),
  log: Type.Array(Type.String()),
})

/** Livy's error (and message) body. */
export const LivyMsg = Type.Object(
  { msg: Type.String({ description: 'What went wrong: the field and the rule.' }) },
  { additionalProperties: false },
)
