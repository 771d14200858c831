/**
 * GET /healthz: the process is up. GET /readyz: 200 only when Redis, WebHDFS and Livy all
 * answer within SPARKGATE_READY_TIMEOUT_MS; otherwise 503 problem+json naming what is down.
 */
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import { errors } from '../../errors.js'

const Dependency = Type.Object({
  up: Type.Boolean(),
  url: Type.String({ description: 'Where it was looked for (credentials removed).' }),
  error: Type.Optional(Type.String()),
})

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function safeUrl(url: string) {
  const u = new URL(url)
  u.username = ''
  u.password = ''
  return u.toString().replace(/\/$/, '')
}

export const healthRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        operationId: 'getHealth',
        summary: 'Liveness: the gateway process is up',
        response: {
          200: Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Number() }),
        },
      },
    },
    async () => ({ status: 'ok' as const, uptimeSeconds: Math.round(process.uptime()) }),
  )

  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        operationId: 'getReadiness',
        summary: 'Readiness: Redis, WebHDFS and every backend answer',
        response: {
          200: Type.Object({
            status: Type.Literal('ready'),
            dependencies: Type.Record(Type.String(), Dependency),
          }),
          503: Type.Ref('Problem'),
        },
      },
    },
    async () => {
      const ms = app.config.SPARKGATE_READY_TIMEOUT_MS
      const checks: Record<string, { url: string; probe: () => Promise<unknown> }> = {
        redis: { url: safeUrl(app.config.SPARKGATE_REDIS_URL), probe: () => app.redis.ping() },
        webhdfs: {
          url: app.config.SPARKGATE_WEBHDFS_URL,
          probe: () => app.hdfs.getFileStatus('/'),
        },
      }
      for (const [name, { backend }] of app.backends) {
        checks[name] = { url: backend.endpoint, probe: () => backend.health() }
      }
      const results = await Promise.all(
        Object.entries(checks).map(async ([name, check]) => {
          try {
            await withTimeout(check.probe(), ms, name)
            return [name, { up: true, url: check.url }] as [
              string,
              { up: boolean; url: string; error?: string },
            ]
          } catch (error) {
            return [name, { up: false, url: check.url, error: (error as Error).message }] as [
              string,
              { up: boolean; url: string; error?: string },
            ]
          }
        }),
      )
      const dependencies: Record<string, { up: boolean; url: string; error?: string }> =
        Object.fromEntries(results)
      const down = results.filter(([, r]) => !r.up).map(([name]) => name)
      if (down.length > 0) throw errors.dependenciesDown(down, dependencies)
      return { status: 'ready' as const, dependencies }
    },
  )
}
