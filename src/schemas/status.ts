/**
 * The status view's shapes: a dependency's state (/readyz, and a 503 problem naming what
 * is down) and a backend's view (/v1/backends). The types are their Static<>.
 */
import { Type, type Static } from 'typebox'

export const DependencyStateSchema = Type.Object({
  up: Type.Boolean(),
  url: Type.String({ description: 'Where it was looked for (credentials removed).' }),
  error: Type.Optional(Type.String()),
})
export type DependencyState = Static<typeof DependencyStateSchema>

export const BackendViewSchema = Type.Object({
  name: Type.String(),
  kind: Type.String({ description: 'A registered kind: livy, synapse or local' }),
  endpoint: Type.String({ description: 'Where it is reached (no credentials).' }),
  auth: Type.String({
    description:
      'How the gateway authenticates to it, the type only: none, basic (a TLS gateway in front), kerberos (SPNEGO), azure-ad (Synapse).',
  }),
  default: Type.Boolean({ description: 'Jobs that name no backend go here.' }),
  maxLive: Type.Integer({ description: 'Cap of live batches.' }),
  live: Type.Integer({ description: 'Jobs holding a live slot now.' }),
  queued: Type.Integer({ description: 'Jobs waiting in its queue.' }),
  healthy: Type.Boolean(),
  error: Type.Optional(Type.String()),
})
export type BackendView = Static<typeof BackendViewSchema>
