/** TypeBox schemas of /v1/engines and of the engines' own protocol (/engine/v1). */
import { Type } from 'typebox'

export const EngineIdParams = Type.Object({
  id: Type.String({ pattern: '^eng-[a-z0-9-]{1,64}$', description: 'An engine id (eng-…).' }),
})

export const EngineStart = Type.Object(
  {
    backend: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Default: the default backend.' }),
    ),
  },
  { additionalProperties: false },
)

export const Memory = Type.Object({
  usedBytes: Type.Integer({ minimum: 0 }),
  maxBytes: Type.Integer({ minimum: 0 }),
})

export const EngineReportSchema = Type.Object(
  {
    appId: Type.Optional(Type.String({ maxLength: 256 })),
    memory: Type.Optional(Memory),
    jobsServed: Type.Optional(Type.Integer({ minimum: 0 })),
    attempt: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: true },
)

export const PollQuery = Type.Object({
  wait: Type.Optional(Type.Integer({ minimum: 0, maximum: 60, default: 20 })),
})

export const EngineWorkSchema = Type.Object({
  job: Type.Object({
    id: Type.String(),
    attempt: Type.Integer(),
    kind: Type.String({ description: 'training or scoring' }),
    spec: Type.String({ description: "The run's spec.json URI." }),
  }),
})

export const EngineJobParams = Type.Object({
  id: EngineIdParams.properties.id,
  job: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
})

export const EngineDoneSchema = Type.Object(
  {
    attempt: Type.Integer({ minimum: 1 }),
    outcome: Type.Union([
      Type.Literal('succeeded'),
      Type.Literal('failed'),
      Type.Literal('cancelled'),
    ]),
    log: Type.Array(Type.String({ maxLength: 4000 }), { maxItems: 2000 }),
    error: Type.Optional(Type.String({ maxLength: 8000 })),
  },
  { additionalProperties: false },
)
