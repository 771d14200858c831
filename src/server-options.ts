/**
 * Fastify and ajv options shared by server.ts and the tests, so that tests validate
 * exactly as production does.
 */
import type { FastifyServerOptions } from 'fastify'
import { randomUUID } from 'node:crypto'
import type { Config } from './config.js'

export function serverOptions(
  config: Config,
  overrides: FastifyServerOptions = {},
): FastifyServerOptions {
  return {
    logger: {
      level: config.SPARKGATE_LOG_LEVEL,
      // never log credentials, tokens or keys, wherever they appear
      redact: {
        paths: [
          'req.headers.authorization',
          'req.headers.cookie',
          'req.headers["x-api-key"]',
          'config.SPARKGATE_REDIS_URL',
          'config.SPARKGATE_SYNAPSE_TOKEN',
          'config.SPARKGATE_MLFLOW_TOKEN',
          'config.SPARKGATE_ADMIN_KEY',
          'config.SPARKGATE_API_KEY',
          'config.SPARKGATE_KAFKA_SASL_PASSWORD',
          'req.headers["idempotency-key"]',
          '*.password',
          '*.token',
          '*.secret',
        ],
        censor: '[redacted]',
      },
    },
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // JSON bodies; dataset uploads stream and have their own limit
    bodyLimit: 1024 * 1024,
    ajv: {
      customOptions: {
        allErrors: true,
        coerceTypes: 'array',
        removeAdditional: false,
        useDefaults: true,
      },
    },
    ...overrides,
  }
}
