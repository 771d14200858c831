import { readFile } from 'node:fs/promises'
import t from 'tap'
import {
  CLIENT_TYPES_FILE,
  OPENAPI_FILE,
  clientTypes,
  openApiDocument,
} from '../src/tools/openapi.js'

t.test('openapi/openapi.json is what the gateway serves (run `npm run openapi`)', async (t) => {
  const committed = await readFile(OPENAPI_FILE, 'utf8')
  const served = await openApiDocument()
  t.equal(committed, served, 'openapi/openapi.json has drifted from the routes')
  const doc = JSON.parse(served)
  t.equal(doc.openapi, '3.1.0')
  for (const path of ['/v1/jobs', '/v1/jobs/{id}', '/v1/jobs/{id}/logs', '/readyz']) {
    t.ok(doc.paths[path], `documents ${path}`)
  }
})

t.test('src/client/api.ts is generated from that document (run `npm run openapi`)', async (t) => {
  const committed = await readFile(CLIENT_TYPES_FILE, 'utf8')
  t.equal(committed, await clientTypes(await openApiDocument()), 'the client types have drifted')
})
