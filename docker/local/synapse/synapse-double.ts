/**
 * A double of an Azure Synapse workspace's Spark batch API — the only stand-in in
 * Sparkgate's stack and tests, because Azure cannot be reached from here. The stack runs
 * one as a service (services/synapse.sh, main.ts beside this file); tests may start their
 * own. It follows the published
 * Synapse REST spec for Spark batch jobs, data-plane API version 2019-11-01-preview
 * (azure-rest-api-specs: specification/synapse/data-plane/Microsoft.Synapse/preview/
 * 2019-11-01-preview/sparkJob.json), which @azure/synapse-spark 1.0.0-beta.4 calls:
 *
 *   GET    {endpoint}/livyApi/versions/{livyApiVersion}/sparkPools/{pool}/batches?from&size&detailed
 *   POST   …/batches?detailed          body SparkBatchJobOptions → SparkBatchJob
 *   GET    …/batches/{batchId}?detailed → SparkBatchJob
 *   DELETE …/batches/{batchId}
 *
 * It speaks HTTPS only (the SDK's bearer policy refuses http), with a certificate it is
 * given (the stack's CA) or one made per run; every call needs `Authorization: Bearer
 * <token>` (401 otherwise); unknown pools are 404, unknown API versions 400. Its batches
 * really run: the submitted PySpark file goes to a local `spark-submit` (through Sparkgate's
 * local backend), so jobs really compute; their Livy states and `result` follow the process.
 * Given a Spark environment that reads abfss:// (the stack's: Hadoop's WASB driver against
 * Azurite, main.ts), a batch reads and writes its workspace storage as on a real pool.
 */
import { execFileSync } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { mkdtempSync, readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:https'
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalBackend } from '../../../src/backends/local/local-backend.js'

export const SYNAPSE_API_VERSION = '2019-11-01-preview'

interface Options {
  pool: string
  token: string
  sparkHome: string
  workdir?: string
  /** the environment of its spark-submit (SPARK_CONF_DIR, HADOOP_CONF_DIR, JAVA_HOME, …) */
  env?: Record<string, string>
  /** its certificate and key (PEM) and the CA file that signed it; a self-signed one made per run when absent */
  tls?: { key: string; cert: string; caFile: string }
  /** its port on 127.0.0.1 (default: any free one) */
  port?: number
}

interface Stored {
  id: number
  name: string
  tags: Record<string, string>
  localName: string
  submittedAt: string
}

/** A self-signed certificate for 127.0.0.1 (openssl, per run). */
export function makeCertificate(): { key: string; cert: string; caFile: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sparkgate-synapse-tls-'))
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  )
  return {
    key: readFileSync(join(dir, 'key.pem'), 'utf8'),
    cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    caFile: join(dir, 'cert.pem'),
  }
}

export class SynapseDouble {
  private server?: Server
  private readonly batches = new Map<number, Stored>()
  private nextId = 1
  private readonly runner: LocalBackend
  readonly tls: { key: string; cert: string; caFile: string }
  /** requests seen, by operation */
  readonly calls = { list: 0, create: 0, get: 0, cancel: 0, unauthorized: 0 }

  constructor(private readonly o: Options) {
    this.tls = o.tls ?? makeCertificate()
    this.runner = new LocalBackend({
      name: 'synapse-double',
      sparkHome: o.sparkHome,
      master: 'local[2]',
      workdir: o.workdir ?? mkdtempSync(join(tmpdir(), 'sparkgate-synapse-runs-')),
      killGraceMs: 3000,
      ...(o.env ? { env: o.env } : {}),
    })
  }

  async start(): Promise<string> {
    this.server = createServer({ key: this.tls.key, cert: this.tls.cert }, (req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        this.send(res, 500, { code: 'InternalServerError', message: String(error) })
      })
    })
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject)
      this.server!.listen(this.o.port ?? 0, '127.0.0.1', resolve)
    })
    return `https://127.0.0.1:${(this.server.address() as AddressInfo).port}`
  }

  async stop() {
    for (const b of this.batches.values())
      await this.runner
        .cancel({ batchId: b.localName, batchName: b.localName })
        .catch(() => undefined)
    this.server?.closeAllConnections()
    await new Promise((resolve) => this.server?.close(resolve))
  }

  private send(res: ServerResponse, status: number, body?: unknown) {
    const text = body === undefined ? '' : JSON.stringify(body)
    res.writeHead(status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(text),
      'x-ms-request-id': randomUUID(),
    })
    res.end(text)
  }

  private async view(b: Stored, detailed: boolean) {
    const status = await this.runner.status({ batchId: b.localName, batchName: b.localName })
    const phase = status?.phase ?? 'failed'
    const state = {
      pending: 'starting',
      running: 'running',
      succeeded: 'success',
      failed: 'dead',
      killed: 'killed',
    }[phase]
    const result = {
      pending: 'Uncertain',
      running: 'Uncertain',
      succeeded: 'Succeeded',
      failed: 'Failed',
      killed: 'Cancelled',
    }[phase]
    const job: Record<string, unknown> = {
      id: b.id,
      name: b.name,
      state,
      result,
      tags: b.tags,
      sparkPoolName: this.o.pool,
      workspaceName: 'sparkgate-double',
      submitterName: 'sparkgate',
      appId: `application_double_${String(b.id).padStart(4, '0')}`,
      appInfo: { driverLogUrl: null, sparkUiUrl: null },
      livyInfo: { startingAt: b.submittedAt, currentState: state },
    }
    if (detailed) {
      const page = await this.runner
        .logs({ batchId: b.localName, batchName: b.localName }, 0, 1_000_000)
        .catch(() => ({ lines: [] as string[] }))
      job['logLines'] = ['stdout: ', ...page.lines]
      if (phase === 'failed')
        job['errors'] = [
          { message: 'The Spark application failed', errorCode: 'SparkJobFailed', source: 'User' },
        ]
    }
    return job
  }

  private async body(req: IncomingMessage): Promise<Record<string, unknown>> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    return JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'https://double')
    if (req.headers.authorization !== `Bearer ${this.o.token}`) {
      this.calls.unauthorized++
      return this.send(res, 401, {
        code: 'Unauthorized',
        message: 'a valid bearer token is required',
      })
    }
    const m = /^\/livyApi\/versions\/([^/]+)\/sparkPools\/([^/]+)\/batches(?:\/(\d+))?$/.exec(
      url.pathname,
    )
    if (!m) return this.send(res, 404, { code: 'NotFound', message: `no route ${url.pathname}` })
    const [, version, pool, id] = m
    if (version !== SYNAPSE_API_VERSION)
      return this.send(res, 400, {
        code: 'InvalidApiVersion',
        message: `livyApiVersion ${version} is not supported`,
      })
    if (pool !== this.o.pool)
      return this.send(res, 404, {
        code: 'SparkPoolNotFound',
        message: `Spark pool ${pool} not found`,
      })
    const detailed = url.searchParams.get('detailed') === 'true'

    if (req.method === 'GET' && id === undefined) {
      this.calls.list++
      const from = Number(url.searchParams.get('from') ?? 0)
      const size = Number(url.searchParams.get('size') ?? 20)
      const all = [...this.batches.values()]
      const sessions = await Promise.all(
        all.slice(from, from + size).map((b) => this.view(b, detailed)),
      )
      return this.send(res, 200, { from, total: all.length, sessions })
    }
    if (req.method === 'POST' && id === undefined) {
      this.calls.create++
      const spec = await this.body(req)
      if (typeof spec['file'] !== 'string' || typeof spec['name'] !== 'string')
        return this.send(res, 400, { code: 'BadRequest', message: 'name and file are required' })
      const file = spec['file']
      if (!/^(abfss|wasbs|hdfs|file):\/\//.test(file))
        return this.send(res, 400, {
          code: 'BadRequest',
          message: `file ${file} is not a URI the pool can read`,
        })
      const b: Stored = {
        id: this.nextId++,
        name: spec['name'],
        tags: (spec['tags'] as Record<string, string>) ?? {},
        localName: `synapse-${randomUUID()}`,
        submittedAt: new Date().toISOString(),
      }
      await this.runner.submit({
        name: b.localName,
        file,
        ...(Array.isArray(spec['args']) ? { args: spec['args'] as string[] } : {}),
        ...(Array.isArray(spec['pyFiles']) ? { pyFiles: spec['pyFiles'] as string[] } : {}),
        ...(spec['conf'] ? { conf: spec['conf'] as Record<string, string> } : {}),
        ...(typeof spec['driverMemory'] === 'string' ? { driverMemory: spec['driverMemory'] } : {}),
      })
      this.batches.set(b.id, b)
      return this.send(res, 200, await this.view(b, detailed))
    }
    const batch = id === undefined ? undefined : this.batches.get(Number(id))
    if (!batch) return this.send(res, 404, { code: 'NotFound', message: `batch ${id} not found` })
    if (req.method === 'GET') {
      this.calls.get++
      return this.send(res, 200, await this.view(batch, detailed))
    }
    if (req.method === 'DELETE') {
      this.calls.cancel++
      await this.runner.cancel({ batchId: batch.localName, batchName: batch.localName })
      return this.send(res, 200, {})
    }
    return this.send(res, 405, { code: 'MethodNotAllowed', message: req.method })
  }
}
