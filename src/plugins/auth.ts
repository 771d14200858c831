/**
 * Identity for every /v1 call: `Authorization: Bearer <key>` names a tenant and a role;
 * no or an unknown key is a 401, a key without the route's access a 403 (both
 * problem+json). A route declares its access in `config.access` (read, write, admin);
 * a /v1 route that declares none is admin-only, so a forgotten declaration fails closed.
 * /healthz, /readyz and /docs stay open.
 *
 * The platform admin key is SPARKGATE_ADMIN_KEY, or — when unset — generated at first
 * start: only its hash is kept (in Redis, so every replica knows it), the key is printed
 * once on stderr and written to SPARKGATE_ADMIN_KEY_FILE (mode 0600). Then the request
 * rate of each tenant is limited (@fastify/rate-limit on the shared Redis).
 */
import rateLimit from '@fastify/rate-limit'
import type { FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import { mkdir, writeFile } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { errors } from '../errors.js'
import { sendProblem, toProblem } from './problem-handler.js'
import { RedisKeys } from '../redis/keys.js'
import { allows, PLATFORM_TENANT, type Access, type Principal } from '../tenancy/access.js'
import { AuditLog } from '../tenancy/audit.js'
import type { Tenant } from '../tenancy/tenant-schema.js'
import { hashKey, newKey, sameHash, TenantStore } from '../tenancy/tenant-store.js'

declare module 'fastify' {
  interface FastifyInstance {
    tenants: TenantStore
    audit: AuditLog
  }
  interface FastifyRequest {
    principal?: Principal
    /** the caller's tenant record (set with the principal, read once per request) */
    tenantRecord?: Promise<Tenant>
  }
  interface FastifyContextConfig {
    /** what a /v1 route needs: read (any role), write (member, admin) or admin */
    access?: Access
  }
}

const BEARER = /^Bearer ([\x21-\x7e]{1,256})$/
const BASIC = /^Basic ([A-Za-z0-9+/=]{1,400})$/

/** The password of HTTP Basic credentials (any user name): the key. */
function basicPassword(encoded: string): string {
  const text = Buffer.from(encoded, 'base64').toString('utf8')
  return text.slice(text.indexOf(':') + 1)
}

export const authPlugin = fp(
  async (app) => {
    const config = app.config
    const tenants = new TenantStore(app.redis, config.SPARKGATE_REDIS_PREFIX, {
      quotas: {
        maxQueuedJobs: config.SPARKGATE_TENANT_MAX_QUEUED_JOBS,
        maxLiveJobs: config.SPARKGATE_TENANT_MAX_LIVE_JOBS,
        datasetBytes: config.SPARKGATE_TENANT_DATASET_BYTES,
        requestsPerMinute: config.SPARKGATE_TENANT_REQUESTS_PER_MINUTE,
      },
      policy: {
        yarnQueues: config.SPARKGATE_POLICY_YARN_QUEUES.split(','),
        engines: {
          min: config.SPARKGATE_ENGINES_MIN,
          max: config.SPARKGATE_ENGINES_MAX,
          idleSeconds: config.SPARKGATE_ENGINE_IDLE_SECONDS,
        },
      },
    })
    app.decorate('tenants', tenants)
    app.decorate(
      'audit',
      new AuditLog(app.redis, config.SPARKGATE_REDIS_PREFIX, config.SPARKGATE_AUDIT_MAX_ENTRIES),
    )

    // the admin key's hash: from the environment, or generated once and shared in Redis
    let adminHash: string | undefined = config.SPARKGATE_ADMIN_KEY
      ? hashKey(config.SPARKGATE_ADMIN_KEY)
      : undefined
    const adminReady = async () => {
      if (adminHash) return adminHash
      const key = newKey()
      const { hash, claimed } = await tenants.claimAdminHash(hashKey(key))
      if (claimed) {
        const file = resolve(config.SPARKGATE_ADMIN_KEY_FILE)
        await mkdir(dirname(file), { recursive: true })
        await writeFile(file, `${key}\n`, { mode: 0o600 })
        process.stderr.write(
          `\nSparkgate generated the platform admin key (shown once; only its hash is kept):\n\n  ${key}\n\nIt is also in ${file}. Set SPARKGATE_ADMIN_KEY to choose your own.\n\n`,
        )
        app.log.warn(
          { file },
          'generated the platform admin key; it was printed once on stderr and written to this file',
        )
      }
      adminHash = hash
      return hash
    }
    if (config.SPARKGATE_ROLES.split(',').includes('api') && !adminHash) {
      app.addHook('onReady', async () => {
        await adminReady().catch((error: unknown) =>
          app.log.warn(
            { err: { message: (error as Error).message } },
            'could not read or make the admin key yet (Redis down?); retried on the first call',
          ),
        )
      })
    }

    app.addHook('onRequest', async (request, reply) => {
      try {
        await authenticate(request, reply)
      } catch (error) {
        // the board's routes have their own error handler (Bull Board's): answer here
        if (!isBoard(request.url)) throw error
        return sendProblem(reply, toProblem(error, request))
      }
    })

    const isBoard = (path: string) => path === '/admin' || path.startsWith('/admin/')

    async function authenticate(request: FastifyRequest, reply: FastifyReply) {
      const path = request.url
      // the queue board (a browser page): the key as HTTP Basic auth's password, which a
      // browser asks for and then sends with each of the page's own requests
      const board = isBoard(path)
      // the Livy API: Livy clients (Airflow's HTTP connection, pylivy) send HTTP Basic
      const livy = path === '/livy' || path.startsWith('/livy/')
      // every /v1 and /livy call, the board, and the few routes that declare an access (/metrics)
      const guarded =
        board ||
        livy ||
        path === '/v1' ||
        path.startsWith('/v1/') ||
        request.routeOptions.config?.access !== undefined
      if (!guarded) return
      const header = request.headers.authorization
      const scheme = board
        ? 'Basic realm="sparkgate admin", charset="UTF-8"'
        : livy
          ? 'Basic realm="sparkgate livy", charset="UTF-8"'
          : undefined
      if (!header) return unauthenticated(reply, 'missing', scheme)
      const basic = board || livy ? BASIC.exec(header) : null
      const m = basic ? null : BEARER.exec(header)
      if (!basic && !m) return unauthenticated(reply, 'malformed', scheme)
      const key = basic ? basicPassword(basic[1]!) : m![1]!
      // keys live in Redis: while it is down this fails, and the error mapper says 503
      const admin = await adminReady()
      if (sameHash(admin, hashKey(key))) {
        request.principal = { tenant: PLATFORM_TENANT, role: 'admin', keyId: 'admin' }
      } else {
        const result = await tenants.authenticate(key)
        if (!result.ok) return unauthenticated(reply, result.reason, scheme)
        request.principal = result.principal
      }
      const { tenant, role, keyId } = request.principal
      // the rate limit below reads it on every call; routes read the same promise
      request.tenantRecord = tenants.current(tenant)
      request.log = request.log.child({ tenant, keyId })
      // no route (a 404 follows): nothing to check; a route without `access`: admin only
      if (request.routeOptions.url === undefined) return
      const access = request.routeOptions.config.access ?? 'admin'
      if (!allows(role, access)) throw errors.forbidden(role, access)
    }

    function unauthenticated(
      reply: FastifyReply,
      reason: Parameters<typeof errors.unauthenticated>[0],
      scheme = 'Bearer realm="sparkgate"',
    ) {
      reply.header('www-authenticate', scheme)
      throw errors.unauthenticated(reason)
    }

    // the request rate of each tenant, counted in Redis so that replicas agree
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      redis: app.redis,
      nameSpace: new RedisKeys(config.SPARKGATE_REDIS_PREFIX).rate(),
      timeWindow: 60_000,
      // Redis down: the request goes on (and says 503 where it needs Redis itself)
      skipOnError: true,
      allowList: (request) => request.principal === undefined,
      keyGenerator: (request) => request.principal?.tenant ?? 'anonymous',
      max: async (request) => (await request.tenantRecord!).quotas.requestsPerMinute,
      errorResponseBuilder: (_request, context) =>
        errors.tooManyRequests(context.max, Math.ceil(context.ttl / 1000)),
    })
  },
  { name: 'sparkgate-auth', dependencies: ['sparkgate-config', 'sparkgate-redis'] },
)
