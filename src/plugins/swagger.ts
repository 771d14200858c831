/**
 * OpenAPI 3.1 document generated from the routes' TypeBox schemas; Swagger UI at /docs.
 * The shared objects (Problem, JobSpec, Job, Dataset, ModelVersion) are registered here.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { DatasetSchema } from '../datasets/dataset-schema.js'
import { EngineSchema } from '../engines/engine-schema.js'
import { JobSchema, jobSpecSchema } from '../domain/job-schema.js'
import type { JobKindDefinition } from '../domain/ports/job-kind.js'
import { ProblemSchema } from '../schemas/common.js'
import { CloudEventSchema, JobEventDataSchema } from '../schemas/events.js'
import { TenantSchema } from '../tenancy/tenant-schema.js'
import { ModelVersionSchema } from '../models/model-version.js'
import { WebhookSchema } from '../webhooks/schemas.js'

// Swagger UI's page is Sparkgate's: a spark in an orange tile (the favicon), and that tile
// with the name in white (the wordmark on Swagger UI's dark top bar, shown 40 px high)
const SPARK_TILE =
  '<rect width="32" height="32" rx="7" fill="#e8590c"/><path d="M18 4 9 18h6l-2 10 10-15h-6.5z" fill="#fff"/>'
const SVG = 'xmlns="http://www.w3.org/2000/svg"'
const SPARKGATE_ICON = `<svg ${SVG} viewBox="0 0 32 32">${SPARK_TILE}</svg>`
const SPARKGATE_WORDMARK =
  `<svg ${SVG} viewBox="0 0 200 40" width="200" height="40">` +
  `<g transform="translate(2 4)">${SPARK_TILE}</g>` +
  '<text x="44" y="29" textLength="150" lengthAdjust="spacingAndGlyphs" fill="#fff" ' +
  'font-family="Helvetica, Arial, sans-serif" font-size="26" font-weight="700">Sparkgate</text></svg>'

export const swaggerPlugin = fp(
  async (app, { kinds }: { kinds: readonly JobKindDefinition[] }) => {
    // shared objects, registered once: routes name them by $ref, OpenAPI under components
    for (const schema of [
      ProblemSchema,
      jobSpecSchema(kinds),
      JobSchema,
      DatasetSchema,
      ModelVersionSchema,
      TenantSchema,
      JobEventDataSchema,
      CloudEventSchema,
      WebhookSchema,
      EngineSchema,
    ])
      app.addSchema(schema)
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'Sparkgate',
          version: '1',
          description:
            'A REST gateway for Apache Spark: stage datasets on HDFS, queue Spark jobs durably, run them through Apache Livy, Azure Synapse or spark-submit, and read back logs, metrics and models. Every error is application/problem+json (RFC 9457) with a stable `code`.',
        },
        tags: [
          { name: 'jobs', description: 'Spark jobs: queue, follow, cancel, logs' },
          { name: 'datasets', description: 'Datasets staged on HDFS: upload, list, preview' },
          { name: 'models', description: 'Models from training jobs, versioned per name' },
          { name: 'backends', description: 'The Spark backends: Livy, Synapse, local' },
          {
            name: 'engines',
            description:
              "Warm engines: a tenant's long-running Spark applications that run its training and scoring jobs without Spark's start",
          },
          { name: 'tenants', description: 'Identity: tenants, API keys, the caller, audit' },
          { name: 'events', description: 'CloudEvents of the tenant: the log, live streams' },
          {
            name: 'webhooks',
            description: 'Signed deliveries of the events (Standard Webhooks), DLQ, replay',
          },
          { name: 'health', description: 'Liveness, readiness and Prometheus metrics' },
          {
            name: 'livy',
            description:
              "Apache Livy's batch API over Sparkgate's jobs, for Livy clients (Airflow, pylivy, curl): Livy's shapes, states and `{msg}` errors",
          },
        ],
        components: {
          securitySchemes: {
            apiKey: {
              type: 'http',
              scheme: 'bearer',
              bearerFormat: 'sgk_…',
              description:
                'An API key: `Authorization: Bearer <key>`. The platform admin makes tenants and their keys (POST /v1/tenants/{tenant}/keys).',
            },
            engineToken: {
              type: 'http',
              scheme: 'bearer',
              description:
                "A warm engine's own token (/engine/v1): made when the engine starts, staged in its tenant's area, revoked when it ends. Never a tenant's key.",
            },
            livyBasic: {
              type: 'http',
              scheme: 'basic',
              description:
                'The Livy API (/livy) also takes the API key as HTTP Basic’s password (any user name), as Livy clients send it.',
            },
          },
        },
        security: [{ apiKey: [] }],
      },
      // the queue board's own routes (a browser page and its JSON) are not the API
      transform: ({ schema, url }) => ({
        schema: url.startsWith('/admin')
          ? { ...schema, hide: true }
          : { ...schema, querystring: optionalDefaults(schema.querystring) },
        url,
      }),
      // a route that reads its body as a stream documents it under x-request-body
      transformObject: (document) => {
        const openapiObject =
          'openapiObject' in document ? document.openapiObject : document.swaggerObject
        const paths = (openapiObject.paths ?? {}) as Record<string, Record<string, unknown>>
        for (const path of Object.values(paths)) {
          for (const value of Object.values(path)) {
            const op = value as Record<string, unknown> | null
            if (op && typeof op === 'object' && 'x-request-body' in op) {
              op['requestBody'] = op['x-request-body']
              delete op['x-request-body']
            }
          }
        }
        return openapiObject
      },
      refResolver: {
        buildLocalReference: (json, _base, _fragment, i) =>
          typeof json.$id === 'string' ? json.$id : `def-${i}`,
      },
    })
    // "Authorize" in Swagger UI takes the key and keeps it across reloads of the page.
    // Sparkgate's tab title, top-bar wordmark and favicon instead of the generic ones (no
    // logo `href`: @fastify/swagger-ui 6.1 sets it on the <img>, where it does nothing).
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { persistAuthorization: true },
      logo: { type: 'image/svg+xml', content: SPARKGATE_WORDMARK },
      theme: {
        title: 'Sparkgate API',
        favicon: [
          {
            filename: 'favicon.svg',
            rel: 'icon',
            sizes: 'any',
            type: 'image/svg+xml',
            content: SPARKGATE_ICON,
          },
        ],
      },
    })
  },
  { name: 'sparkgate-swagger' },
)

/**
 * A query parameter with a default may be left out (validation fills it in), so the
 * document must not call it required: Swagger UI would insist on it, and generated clients
 * (src/client/api.ts) would make every caller pass `limit`.
 */
function optionalDefaults(querystring: unknown): unknown {
  const q = querystring as
    { properties?: Record<string, { default?: unknown }>; required?: string[] } | undefined
  if (!q?.properties || !Array.isArray(q.required)) return querystring
  const required = q.required.filter((name) => q.properties?.[name]?.default === undefined)
  return { ...q, required }
}
