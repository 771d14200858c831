/**
 * What a kind of backend brings to the registry (./registry.ts): the SPARKGATE_*
 * variables it reads, the schema of its SPARKGATE_BACKENDS entries, its capabilities, the
 * entries `auto` stands for, and the factory. A kind is one folder exporting one of these.
 */
import { Type, type Static, type TSchema } from 'typebox'
import type { BackendCapabilities, ConfiguredBackend } from '../domain/ports/spark-backend.js'

/** What every SPARKGATE_BACKENDS entry has. */
export interface BackendEntry {
  name: string
  kind: string
  maxLive?: number
}

export interface BackendKind<
  Entry extends BackendEntry = BackendEntry,
  Settings = Record<string, unknown>,
> {
  readonly kind: string
  /** the entry's fields for humans, in config errors: `{name, kind: livy, url}` */
  readonly summary: string
  readonly capabilities: BackendCapabilities
  /** SPARKGATE_* variables of this kind, merged into the one config schema (src/config.ts) */
  readonly settings: Record<string, TSchema>
  /** one SPARKGATE_BACKENDS entry of this kind */
  readonly entry: TSchema
  /** the entries SPARKGATE_BACKENDS=auto stands for (none when absent) */
  auto?(settings: Settings): Entry[]
  /** the adapter with its cap; throws a message for a config problem found only here */
  create(entry: Entry, settings: Settings): ConfiguredBackend
}

/** Types a kind from its schemas and checks it against the contract. */
export function defineBackendKind<E extends TSchema, S extends Record<string, TSchema>>(
  kind: {
    entry: E
    settings: S
  } & Omit<BackendKind<Static<E> & BackendEntry, SettingsOf<S>>, 'entry' | 'settings'>,
) {
  return kind
}

/** The config values of a kind's settings. */
export type SettingsOf<S extends Record<string, TSchema>> = { [K in keyof S]: Static<S[K]> }

/** A config problem found while creating a backend (the registry reports it at boot). */
export class BackendConfigError extends Error {}

/** The name every entry has: also a queue name and a Redis key part. */
export const BACKEND_NAME_PATTERN = '^[a-z][a-z0-9-]{0,62}$'

/** The fields every kind's entry schema starts with: its name, its kind, its cap. */
export const entryFields = <K extends string>(kind: K) => ({
  name: Type.String({ pattern: BACKEND_NAME_PATTERN }),
  kind: Type.Literal(kind),
  maxLive: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
})
