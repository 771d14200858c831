import { errors } from '../errors.js'
import { MlflowError } from '../mlflow/mlflow-client.js'

/**
 * An MLflow call of the registry's API: a fault of the server (down, refused credentials,
 * 5xx) is a 503 of ours; MLflow's not_found and invalid are left to the caller.
 */
export async function mlflowCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (error) {
    if (error instanceof MlflowError && !['not_found', 'invalid'].includes(error.kind))
      throw errors.mlflowUnavailable(error.message)
    throw error
  }
}

/**
 * An MLflow read: a name or version MLflow finds invalid (it has rules of its own) is no
 * model of this tenant — undefined, as one not found; any other fault of the server
 * (down, refused credentials, 5xx) is a 503, as in the models view.
 */
export async function mlflowAsk<T>(read: () => Promise<T>): Promise<T | undefined> {
  try {
    return await mlflowCall(read)
  } catch (error) {
    if (error instanceof MlflowError) return undefined // not_found, invalid
    throw error
  }
}
