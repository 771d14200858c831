/**
 * The SPARKGATE_MLFLOW_* variables (merged into the one config schema, src/config.ts) and
 * the client they describe: the tracking server's URL (`none`: no tracking), and how to
 * authenticate — nothing, a static bearer token, or an Azure AD token for an Azure ML
 * workspace's MLflow endpoint (DefaultAzureCredential, scope https://ml.azure.com/.default).
 */
import type { TokenCredential } from '@azure/core-auth'
import { DefaultAzureCredential } from '@azure/identity'
import { Type } from 'typebox'
import { MlflowClient } from './mlflow-client.js'

export const MLFLOW_SETTINGS = {
  SPARKGATE_MLFLOW_URL: Type.String({
    default: 'http://127.0.0.1:5005',
    pattern: '^(none|https?://.+)$',
    description:
      "MLflow tracking server of record (REST base URL; for Azure ML, the workspace MLflow tracking URI with https:// for azureml://); none turns tracking off. The default is the local stack's server.",
  }),
  SPARKGATE_MLFLOW_AUTH: Type.Union(
    ['none', 'token', 'azure'].map((l) => Type.Literal(l)),
    {
      default: 'none',
      description:
        'How to authenticate to MLflow: none, token (SPARKGATE_MLFLOW_TOKEN as a bearer token) or azure (a token from DefaultAzureCredential for https://ml.azure.com/.default, cached until 5 minutes before it expires).',
    },
  ),
  SPARKGATE_MLFLOW_TOKEN: Type.String({
    default: '',
    secret: true,
    description: 'Bearer token for MLflow with SPARKGATE_MLFLOW_AUTH=token (secret; never logged).',
  }),
}

export interface MlflowSettings {
  SPARKGATE_MLFLOW_URL: string
  SPARKGATE_MLFLOW_AUTH: string
  SPARKGATE_MLFLOW_TOKEN: string
}

export const AZURE_ML_SCOPE = 'https://ml.azure.com/.default'

/** A problem of the settings taken together, for the config error at boot. */
export function mlflowProblems(s: MlflowSettings): string[] {
  if (s.SPARKGATE_MLFLOW_AUTH === 'token' && !s.SPARKGATE_MLFLOW_TOKEN)
    return ['SPARKGATE_MLFLOW_TOKEN: is required with SPARKGATE_MLFLOW_AUTH=token']
  return []
}

/**
 * A token source that asks the credential only when the last token is within a few
 * minutes of its expiry (DefaultAzureCredential may spawn `az` or call IMDS each time).
 */
export function cachedToken(credential: TokenCredential, scope: string) {
  let current: { token: string; expiresOnTimestamp: number } | undefined
  return async () => {
    if (!current || current.expiresOnTimestamp - Date.now() < 5 * 60_000) {
      const token = await credential.getToken(scope)
      if (!token) throw new Error(`no Azure token for ${scope}`)
      current = token
    }
    return current.token
  }
}

/** The client the settings name, or undefined when tracking is off. */
export function createMlflowClient(
  s: MlflowSettings,
  credential: () => TokenCredential = () => new DefaultAzureCredential(),
): MlflowClient | undefined {
  if (s.SPARKGATE_MLFLOW_URL === 'none') return undefined
  const token =
    s.SPARKGATE_MLFLOW_AUTH === 'token'
      ? async () => s.SPARKGATE_MLFLOW_TOKEN
      : s.SPARKGATE_MLFLOW_AUTH === 'azure'
        ? cachedToken(credential(), AZURE_ML_SCOPE)
        : undefined
  // the tracker waits on it before marking a job succeeded: a hung server must not hold it long
  return new MlflowClient({ url: s.SPARKGATE_MLFLOW_URL, token, timeoutMs: 10_000 })
}
