/**
 * A reference to one model version of a tenant, as a scoring job names it — `name` (its
 * newest version), `name/<version>` or `name@<alias>` — and what a registry resolves it to.
 */
import { Type, type Static } from 'typebox'

/** `name`, `name/<version>` or `name@<alias>` (a name ending in `/<digits>` is a version). */
export const MODEL_REF = '^[A-Za-z0-9][A-Za-z0-9 ._:/-]{0,127}(@[A-Za-z0-9_-]{1,255})?$'

export const ResolvedModelSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.Integer({ minimum: 1 }),
    uri: Type.String({ description: 'The PipelineModel scored (hdfs://…/model).' }),
    alias: Type.Optional(Type.String({ description: 'The MLflow alias it was named by.' })),
  },
  { additionalProperties: false },
)
export type ResolvedModel = Static<typeof ResolvedModelSchema>

/** A model reference split into its name and its version or alias. */
export function parseModelRef(ref: string): { name: string; version?: number; alias?: string } {
  const versioned = /^(.+)\/([1-9][0-9]{0,8})$/.exec(ref)
  if (versioned) return { name: versioned[1]!, version: Number(versioned[2]) }
  const aliased = /^(.+)@([A-Za-z0-9_-]+)$/.exec(ref)
  if (aliased) return { name: aliased[1]!, alias: aliased[2]! }
  return { name: ref }
}
