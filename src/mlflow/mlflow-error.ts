/**
 * MLflow failures: MLflow's JSON error (`error_code`, `message`) or a network fault as one
 * typed error with a stable `kind`; a 5xx, a 429 or a network fault is `unavailable`
 * (transient: the server may be back later).
 */

/** Base of every MLflow failure; `kind` is stable, `code` is MLflow's `error_code`. */
export class MlflowError extends Error {
  constructor(
    readonly kind: 'not_found' | 'already_exists' | 'invalid' | 'auth' | 'unavailable' | 'remote',
    message: string,
    readonly status?: number,
    readonly code?: string,
  ) {
    super(message)
    this.name = 'MlflowError'
  }
  get transient() {
    return this.kind === 'unavailable'
  }
}

/** MLflow's `error_code`s and what each means to a caller. */
const KINDS: Record<string, MlflowError['kind']> = {
  RESOURCE_DOES_NOT_EXIST: 'not_found',
  RESOURCE_ALREADY_EXISTS: 'already_exists',
  INVALID_PARAMETER_VALUE: 'invalid',
  INVALID_STATE: 'invalid',
  BAD_REQUEST: 'invalid',
  PERMISSION_DENIED: 'auth',
  UNAUTHENTICATED: 'auth',
  TEMPORARILY_UNAVAILABLE: 'unavailable',
  REQUEST_LIMIT_EXCEEDED: 'unavailable',
}

/** The kind of an MLflow answer that is not a 2xx, from its status and `error_code`. */
export function errorKind(status: number, code: string | undefined): MlflowError['kind'] {
  if (status >= 500 || status === 429) return 'unavailable'
  if (status === 401 || status === 403) return 'auth'
  return (code ? KINDS[code] : undefined) ?? (status === 404 ? 'not_found' : 'remote')
}
