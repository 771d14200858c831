/**
 * What a warm engine is, as the API shows it (GET /v1/engines), and the states it goes
 * through:
 *
 *   starting ──(its first poll)──► ready ⇄ busy ──(idle, DELETE)──► stopping ──► stopped
 *       │                            │       │                          │
 *       └───────── its application ended without being asked ───────────┴──────► failed
 */
import { Type, type Static } from 'typebox'
import { Timestamp } from '../schemas/common.js'

export const ENGINE_STATES = ['starting', 'ready', 'busy', 'stopping', 'stopped', 'failed'] as const
export type EngineState = (typeof ENGINE_STATES)[number]

/** States of an engine whose application has not ended (it holds a live slot). */
export const LIVE_ENGINE_STATES: readonly EngineState[] = ['starting', 'ready', 'busy', 'stopping']
/** States in which an engine takes (or will take) jobs. */
export const SERVING_ENGINE_STATES: readonly EngineState[] = ['starting', 'ready', 'busy']

export function engineEnded(state: EngineState | undefined): boolean {
  return state === 'stopped' || state === 'failed'
}

export const EngineSchema = Type.Object(
  {
    id: Type.String(),
    tenant: Type.String(),
    backend: Type.String(),
    state: Type.Unsafe<EngineState>({
      type: 'string',
      enum: [...ENGINE_STATES],
      description: 'starting, ready (idle), busy (running a job), stopping, stopped, failed',
    }),
    appId: Type.Optional(Type.String({ description: "The Spark application's id (YARN's)." })),
    batchId: Type.Optional(Type.String({ description: "The backend's id of the engine's batch." })),
    sparkUiUrl: Type.Optional(Type.String()),
    queue: Type.Optional(Type.String({ description: 'The YARN queue it runs in.' })),
    clusterUser: Type.String({ description: 'The cluster user it runs as.' }),
    startedBy: Type.String({ description: 'job (a warm job asked), policy (its minimum), api' }),
    createdAt: Timestamp,
    readyAt: Type.Optional(Timestamp),
    endedAt: Type.Optional(Timestamp),
    lastSeenAt: Type.Optional(Timestamp),
    jobsServed: Type.Integer({ description: 'Jobs it has run.' }),
    currentJob: Type.Optional(Type.String({ description: 'The job it is running.' })),
    idleSeconds: Type.Integer({ description: 'Seconds since its last job ended (0 while busy).' }),
    idleTimeoutSeconds: Type.Integer({ description: 'It stops after this long idle.' }),
    memory: Type.Optional(
      Type.Object({
        usedBytes: Type.Integer({ description: "The driver JVM's heap in use." }),
        maxBytes: Type.Integer({ description: "The driver JVM's maximum heap." }),
      }),
    ),
    reason: Type.Optional(Type.String({ description: 'Why it stopped or failed.' })),
  },
  { $id: 'Engine' },
)
export type Engine = Static<typeof EngineSchema>
export const EngineRef = Type.Unsafe<Engine>(Type.Ref('Engine'))
