/**
 * `npm run openapi`: writes the OpenAPI document the running gateway serves at /docs/json
 * to openapi/openapi.json. test/openapi.test.ts fails when the committed file drifts.
 */
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { buildApp } from '../app.js'
import { configWith } from '../config.js'

export const OPENAPI_FILE = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url))

/** The document as committed: 2-space JSON with a final newline. */
export async function openApiDocument(): Promise<string> {
  // only the HTTP role: no workers or tracker start, and nothing is written to Redis (an
  // admin key is given, so none is generated)
  const app = await buildApp(
    configWith({
      SPARKGATE_ROLES: 'api',
      SPARKGATE_LOG_LEVEL: 'silent',
      SPARKGATE_ADMIN_KEY: 'sgk_openapi-document-only-0000000000',
    }),
  )
  try {
    await app.ready()
    return `${JSON.stringify(app.swagger(), null, 2)}\n`
  } finally {
    await app.close()
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await writeFile(OPENAPI_FILE, await openApiDocument())
  process.stdout.write(`wrote ${OPENAPI_FILE}\n`)
}
