/** The `livy` kind: Apache Livy's batch API (`{name, kind: livy, url, maxLive?}`). */
import { Type } from 'typebox'
import { defineBackendKind, entryFields } from '../backend-kind.js'
import { LivyBackend } from './livy-backend.js'

export const livyKind = defineBackendKind({
  kind: 'livy',
  summary: '{name, kind: livy, url, maxLive?}',
  capabilities: { readsStagedFiles: true, workDirArchives: true },
  settings: {
    SPARKGATE_LIVY_URL: Type.String({
      default: 'http://127.0.0.1:8998',
      pattern: '^[a-z][a-z0-9+.-]*://.+',
      description: 'Apache Livy REST endpoint (the `livy` backend of SPARKGATE_BACKENDS=auto).',
    }),
    SPARKGATE_LIVY_MAX_LIVE: Type.Integer({
      default: 4,
      minimum: 1,
      maximum: 10000,
      description:
        'Cap of live batches on a Livy backend without its own maxLive; jobs beyond it wait in the queue, not on the cluster.',
    }),
  },
  entry: Type.Object(
    {
      ...entryFields('livy'),
      url: Type.String({ format: 'uri' }),
    },
    { additionalProperties: false },
  ),
  auto: (s) => [
    {
      name: 'livy',
      kind: 'livy' as const,
      url: s.SPARKGATE_LIVY_URL,
      maxLive: s.SPARKGATE_LIVY_MAX_LIVE,
    },
  ],
  create: (entry, s) => ({
    backend: new LivyBackend({ name: entry.name, url: entry.url }),
    maxLive: entry.maxLive ?? s.SPARKGATE_LIVY_MAX_LIVE,
  }),
})
