/**
 * OpenAPI 3.1 document generated from the routes' TypeBox schemas; Swagger UI at /docs.
 * The shared objects (Problem, JobSpec, Job, Dataset, ModelVersion) are registered here.
 */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { DatasetSchema } from '../datasets/dataset-schema.js'
import { JobSchema, JobSpecSchema } from '../domain/job-schema.js'
import { ProblemSchema } from '../schemas/common.js'
import { WebhookSchema } from '../events/webhook-store.js'
import { CloudEventSchema, JobEventDataSchema } from '../schemas/events.js'
import { TenantSchema } from '../tenancy/tenant-schema.js'
import { ModelVersionSchema } from '../training/model-registry.js'

export const swaggerPlugin = fp(
  async (app) => {
    // shared objects, registered once: routes name them by $ref, OpenAPI under components
    for (const schema of [
      ProblemSchema,
      JobSpecSchema,
      JobSchema,
      DatasetSchema,
      ModelVersionSchema,
      TenantSchema,
      JobEventDataSchema,
      CloudEventSchema,
      WebhookSchema,
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
          { name: 'tenants', description: 'Identity: tenants, API keys, the caller, audit' },
          { name: 'events', description: 'CloudEvents of the tenant: the log, live streams' },
          {
            name: 'webhooks',
            description: 'Signed deliveries of the events (Standard Webhooks), DLQ, replay',
          },
          { name: 'health', description: 'Liveness, readiness and Prometheus metrics' },
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
          },
        },
        security: [{ apiKey: [] }],
      },
      // the queue board's own routes (a browser page and its JSON) are not the API
      transform: ({ schema, url }) => ({
        schema: url.startsWith('/admin') ? { ...schema, hide: true } : schema,
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
    // "Authorize" in Swagger UI takes the key and keeps it across reloads of the page
    await app.register(swaggerUi, {
      routePrefix: '/docs',
      uiConfig: { persistAuthorization: true },
    })
  },
  { name: 'sparkgate-swagger' },
)
