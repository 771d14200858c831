/** OpenAPI 3.1 document generated from the routes' TypeBox schemas; Swagger UI at /docs. */
import swagger from '@fastify/swagger'
import swaggerUi from '@fastify/swagger-ui'
import fp from 'fastify-plugin'
import { ProblemSchema } from '../errors.js'

export const swaggerPlugin = fp(
  async (app) => {
    app.addSchema(ProblemSchema)
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
          { name: 'health', description: 'Liveness and readiness' },
        ],
      },
      refResolver: {
        buildLocalReference: (json, _base, _fragment, i) =>
          typeof json.$id === 'string' ? json.$id : `def-${i}`,
      },
    })
    await app.register(swaggerUi, { routePrefix: '/docs' })
  },
  { name: 'sparkgate-swagger' },
)
