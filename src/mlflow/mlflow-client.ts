/**
 * An MLflow REST client on axios: the tracking API (experiments, runs, log-batch), the
 * artifact proxy of a server run with `--serve-artifacts` (mlflow-artifacts), and the
 * model registry (registered models, model versions). MLflow's JSON error (`error_code`,
 * `message`) becomes a typed MlflowError (mlflow-error.ts); a 5xx, a 429 or a network fault is transient.
 * Auth: none, a static bearer token, or any token source (Azure: DefaultAzureCredential).
 */
import axios, { type AxiosInstance, isAxiosError } from 'axios'
import type {
  Batch,
  Experiment,
  MlflowTag,
  ModelVersion,
  RegisteredModel,
  Run,
  RunInfo,
  RunStatus,
} from './mlflow-entities.js'
import { errorKind, MlflowError } from './mlflow-error.js'

// what callers of the client name with it, from one import
export * from './mlflow-entities.js'
export { MlflowError } from './mlflow-error.js'

export interface MlflowOptions {
  /** the tracking server, e.g. http://127.0.0.1:5005 (REST paths go under it) */
  url: string
  /** a bearer token per request (static, or fetched and cached by the caller) */
  token?: () => Promise<string | undefined>
  timeoutMs?: number
}

/**
 * Quotes a value for an MLflow search filter: in ' or " (the filter grammar has no escapes,
 * so a value holding both cannot be searched for).
 */
export function quote(value: string) {
  if (!value.includes("'")) return `'${value}'`
  if (!value.includes('"')) return `"${value}"`
  throw new MlflowError('invalid', `cannot search MLflow for a value with both quotes: ${value}`)
}

export class MlflowClient {
  private readonly http: AxiosInstance

  constructor(private readonly o: MlflowOptions) {
    this.http = axios.create({
      baseURL: o.url.replace(/\/+$/, ''),
      timeout: o.timeoutMs ?? 30_000,
      maxRedirects: 0,
      // errors are mapped below, from the status and MLflow's JSON error
      validateStatus: () => true,
      maxBodyLength: Infinity,
    })
  }

  async getExperimentByName(name: string): Promise<Experiment | undefined> {
    const r = await this.optional('GET', 'experiments/get-by-name', { experiment_name: name })
    return (r as { experiment: Experiment } | undefined)?.experiment
  }

  async createExperiment(name: string, tags: MlflowTag[] = []): Promise<string> {
    const r = await this.api<{ experiment_id: string }>('POST', 'experiments/create', {
      name,
      tags,
    })
    return r.experiment_id
  }

  async restoreExperiment(id: string): Promise<void> {
    await this.api('POST', 'experiments/restore', { experiment_id: id })
  }

  /** Runs of an experiment matching a filter (`tags.\`k\` = 'v'`), newest first. */
  async searchRuns(experimentId: string, filter: string, maxResults = 10): Promise<Run[]> {
    const r = await this.api<{ runs?: Run[] }>('POST', 'runs/search', {
      experiment_ids: [experimentId],
      filter,
      run_view_type: 'ACTIVE_ONLY',
      max_results: maxResults,
      order_by: ['attributes.start_time DESC'],
    })
    return r.runs ?? []
  }

  async createRun(
    experimentId: string,
    run: { name?: string; startTime?: number; tags?: MlflowTag[] },
  ): Promise<Run> {
    const r = await this.api<{ run: Run }>('POST', 'runs/create', {
      experiment_id: experimentId,
      run_name: run.name,
      start_time: run.startTime ?? Date.now(),
      tags: run.tags ?? [],
    })
    return r.run
  }

  async getRun(runId: string): Promise<Run | undefined> {
    const r = await this.optional('GET', 'runs/get', { run_id: runId })
    return (r as { run: Run } | undefined)?.run
  }

  /** Ends a run (FINISHED by default) at `endTime`. */
  async updateRun(runId: string, status: RunStatus = 'FINISHED', endTime = Date.now()) {
    const r = await this.api<{ run_info: RunInfo }>('POST', 'runs/update', {
      run_id: runId,
      status,
      end_time: endTime,
    })
    return r.run_info
  }

  /** Logs metrics, params and tags, split into calls within MLflow's limits. */
  async logBatch(runId: string, batch: Batch): Promise<void> {
    const metrics = batch.metrics ?? []
    const params = batch.params ?? []
    const tags = batch.tags ?? []
    for (let i = 0; i < Math.max(params.length, tags.length); i += 100) {
      await this.api('POST', 'runs/log-batch', {
        run_id: runId,
        params: params.slice(i, i + 100),
        tags: tags.slice(i, i + 100),
      })
    }
    for (let i = 0; i < metrics.length; i += 1000)
      await this.api('POST', 'runs/log-batch', {
        run_id: runId,
        metrics: metrics.slice(i, i + 1000),
      })
  }

  /**
   * Uploads one artifact of a run through the server's artifact proxy. Only for runs whose
   * artifact_uri is `mlflow-artifacts:/…` (a server with --serve-artifacts); a PUT of the
   * same path replaces it, so a retry is harmless.
   */
  async uploadArtifact(
    run: RunInfo,
    path: string,
    body: Buffer | string,
    contentType = 'application/json',
  ): Promise<void> {
    const root = artifactPath(run.artifact_uri)
    if (root === undefined)
      throw new MlflowError(
        'invalid',
        `run ${run.run_id} stores artifacts at ${run.artifact_uri}, not through the server's artifact proxy`,
      )
    const segments = [...root.split('/'), ...path.split('/')].filter(Boolean)
    await this.request(
      'PUT',
      `/api/2.0/mlflow-artifacts/artifacts/${segments.map(encodeURIComponent).join('/')}`,
      { data: body, headers: { 'content-type': contentType } },
    )
  }

  async getRegisteredModel(name: string): Promise<RegisteredModel | undefined> {
    const r = await this.optional('GET', 'registered-models/get', { name })
    return (r as { registered_model: RegisteredModel } | undefined)?.registered_model
  }

  async createRegisteredModel(name: string, tags: MlflowTag[] = [], description?: string) {
    const r = await this.api<{ registered_model: RegisteredModel }>(
      'POST',
      'registered-models/create',
      { name, tags, description },
    )
    return r.registered_model
  }

  async createModelVersion(v: {
    name: string
    source: string
    runId?: string
    tags?: MlflowTag[]
    description?: string
  }): Promise<ModelVersion> {
    const r = await this.api<{ model_version: ModelVersion }>('POST', 'model-versions/create', {
      name: v.name,
      source: v.source,
      run_id: v.runId,
      tags: v.tags ?? [],
      description: v.description,
    })
    return r.model_version
  }

  /** Model versions matching a filter (`run_id = '…'`, `name = '…'`). */
  async searchModelVersions(filter: string, maxResults = 100): Promise<ModelVersion[]> {
    const r = await this.api<{ model_versions?: ModelVersion[] }>('GET', 'model-versions/search', {
      filter,
      max_results: maxResults,
    })
    return r.model_versions ?? []
  }

  /** A call to /api/2.0/mlflow/<path>: GET with query parameters, POST with a JSON body. */
  private async api<T>(method: 'GET' | 'POST', path: string, body: object): Promise<T> {
    const url = `/api/2.0/mlflow/${path}`
    return (await this.request(
      method,
      url,
      method === 'GET' ? { params: body } : { data: body },
    )) as T
  }

  /** The same, undefined for RESOURCE_DOES_NOT_EXIST. */
  private async optional(method: 'GET' | 'POST', path: string, body: object) {
    try {
      return await this.api<unknown>(method, path, body)
    } catch (error) {
      if (error instanceof MlflowError && error.kind === 'not_found') return undefined
      throw error
    }
  }

  private async request(
    method: string,
    url: string,
    options: { params?: object; data?: unknown; headers?: Record<string, string> },
  ): Promise<unknown> {
    const token = await this.o.token?.()
    const headers = { ...options.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) }
    let r
    try {
      r = await this.http.request({ method, url, ...options, headers })
    } catch (error) {
      // refused, reset, timed out: the server may be back later
      const message = isAxiosError(error) ? (error.code ?? error.message) : String(error)
      throw new MlflowError('unavailable', `MLflow ${method} ${url}: ${message}`)
    }
    if (r.status >= 200 && r.status < 300) return r.data
    const body = (typeof r.data === 'object' && r.data ? r.data : {}) as {
      error_code?: string
      message?: string
    }
    const code = body.error_code
    const kind = errorKind(r.status, code)
    const detail = body.message ?? (typeof r.data === 'string' ? r.data.slice(0, 300) : '')
    throw new MlflowError(
      kind,
      `MLflow ${method} ${url}: ${r.status}${code ? ` ${code}` : ''}${detail ? `: ${detail}` : ''}`,
      r.status,
      code,
    )
  }

  // ---------------------------------------------- registry search and aliases (/v1/models)

  /** Every registered model matching a filter (`name LIKE 'acme.%'`), all pages. */
  async searchRegisteredModels(filter: string): Promise<RegisteredModel[]> {
    return this.allPages<RegisteredModel>('registered-models/search', filter, 'registered_models')
  }

  /** Every model version matching a filter, all pages (searchModelVersions: the first). */
  async searchAllModelVersions(filter: string): Promise<ModelVersion[]> {
    return this.allPages<ModelVersion>('model-versions/search', filter, 'model_versions')
  }

  /** One version, with its aliases; undefined when the model or the version does not exist. */
  async getModelVersion(name: string, version: string): Promise<ModelVersion | undefined> {
    const r = await this.optional('GET', 'model-versions/get', { name, version })
    return (r as { model_version: ModelVersion } | undefined)?.model_version
  }

  /** Points an alias at a version (moves it if it pointed elsewhere). */
  async setModelAlias(name: string, alias: string, version: string): Promise<void> {
    await this.api('POST', 'registered-models/alias', { name, alias, version })
  }

  /** Removes an alias (MLflow answers 200 for an alias that was not set). */
  async deleteModelAlias(name: string, alias: string): Promise<void> {
    // MLflow reads a DELETE's parameters from a JSON body, not the query string
    await this.request('DELETE', '/api/2.0/mlflow/registered-models/alias', {
      data: { name, alias },
    })
  }

  /** Deletes a version (MLflow drops the aliases pointing at it; its run stays). */
  async deleteModelVersion(name: string, version: string): Promise<void> {
    await this.request('DELETE', '/api/2.0/mlflow/model-versions/delete', {
      data: { name, version },
    })
  }

  /** The version an alias points at; undefined for an unknown model or alias. */
  async getModelVersionByAlias(name: string, alias: string): Promise<ModelVersion | undefined> {
    try {
      const r = await this.optional('GET', 'registered-models/alias', { name, alias })
      return (r as { model_version: ModelVersion } | undefined)?.model_version
    } catch (error) {
      // an unknown alias is INVALID_PARAMETER_VALUE "Registered model alias x not found."
      if (
        error instanceof MlflowError &&
        error.kind === 'invalid' &&
        /not found/i.test(error.message)
      )
        return undefined
      throw error
    }
  }

  /** A GET search followed through its `next_page_token`s (1000 a page: MLflow's largest). */
  private async allPages<T>(path: string, filter: string, field: string): Promise<T[]> {
    const out: T[] = []
    let token: string | undefined
    do {
      const r = await this.api<Record<string, unknown>>('GET', path, {
        filter,
        max_results: 1000,
        ...(token ? { page_token: token } : {}),
      })
      out.push(...((r[field] as T[] | undefined) ?? []))
      token = typeof r['next_page_token'] === 'string' ? r['next_page_token'] : undefined
    } while (token)
    return out
  }
}

/** The proxy path of an `mlflow-artifacts:` URI (`mlflow-artifacts:/1/abc/artifacts` → `1/abc/artifacts`). */
export function artifactPath(uri: string): string | undefined {
  const m = /^mlflow-artifacts:(?:\/\/[^/]*)?\/?(.*)$/.exec(uri)
  return m ? m[1]!.replace(/\/+$/, '') : undefined
}
