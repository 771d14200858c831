/**
 * A job's record in its Redis hash: each field a string (JSON for the nested ones), read
 * back into a JobRecord; and the stable hash of a request body (idempotency).
 */
import { createHash } from 'node:crypto'
import { PLATFORM_TENANT } from '../tenancy/access.js'
import type { Job, JobRecord } from './job-schema.js'
import { JOB_STATES, type JobState } from './job-state.js'

/** Fields written to a job's hash (undefined: left out). */
export type Fields = Partial<Record<string, string | number | boolean | object | undefined>>

export function bodyHash(value: unknown): string {
  return createHash('sha256').update(stableStringify(value)).digest('hex')
}

function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : 1))
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

const JSON_FIELDS = new Set(['spec', 'backendRef', 'error', 'inputs', 'internals'])
const INT_FIELDS = new Set(['attempts', 'maxAttempts', 'priority', 'timeoutSeconds'])

/** A job's tenant: records from before tenancy are the platform's. */
export function tenantOf(job: Partial<Pick<Job, 'tenant'>>): string {
  return job.tenant ?? PLATFORM_TENANT
}

export function encode(value: unknown): string {
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean') return String(value)
  return JSON.stringify(value)
}

export function encodeAll(fields: Fields): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = encode(v)
  return out
}

export function decodeJob(raw: Record<string, string>): JobRecord {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'sortKey') continue
    if (JSON_FIELDS.has(k)) out[k] = JSON.parse(v)
    else if (INT_FIELDS.has(k)) out[k] = Number(v)
    else if (k === 'cancelRequested') out[k] = v === 'true'
    else out[k] = v
  }
  out['backendState'] ??= null
  out['tenant'] ??= PLATFORM_TENANT
  if (!JOB_STATES.includes(out['state'] as JobState))
    throw new Error(`job ${raw['id']}: unknown state ${raw['state']}`)
  return out as unknown as JobRecord
}
