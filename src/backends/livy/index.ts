/** The `livy` kind: Apache Livy's batch API (`{name, kind: livy, url, yarnUrl?, maxLive?}`). */
import { Type } from 'typebox'
import { defineBackendKind, entryFields } from '../backend-kind.js'
import { LivyBackend } from './livy-backend.js'

export const livyKind = defineBackendKind({
  kind: 'livy',
  summary: '{name, kind: livy, url, yarnUrl?, maxLive?}',
  capabilities: { readsStagedFiles: true, workDirArchives: true },
  settings: {
    SPARKGATE_LIVY_URL: Type.String({
      default: 'http://127.0.0.1:8998',
      pattern: '^[a-z][a-z0-9+.-]*://.+',
      description: 'Apache Livy REST endpoint (the `livy` backend of SPARKGATE_BACKENDS=auto).',
    }),
    SPARKGATE_LIVY_YARN_URL: Type.String({
      default: 'http://127.0.0.1:8088',
      pattern: '^$|^https?://.+',
      description:
        "The web address of the YARN ResourceManager behind the `livy` backend of SPARKGATE_BACKENDS=auto: a job's log then carries its driver's stdout and stderr, read from YARN's NodeManagers and log server. Empty: Livy's log only (a cluster whose YARN the gateway cannot reach).",
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
      yarnUrl: Type.Optional(
        Type.String({
          format: 'uri',
          description:
            "The cluster's YARN ResourceManager web address (http://rm:8088): logs carry the driver's output from YARN.",
        }),
      ),
    },
    { additionalProperties: false },
  ),
  auto: (s) => [
    {
      name: 'livy',
      kind: 'livy' as const,
      url: s.SPARKGATE_LIVY_URL,
      ...(s.SPARKGATE_LIVY_YARN_URL ? { yarnUrl: s.SPARKGATE_LIVY_YARN_URL } : {}),
      maxLive: s.SPARKGATE_LIVY_MAX_LIVE,
    },
  ],
  create: (entry, s) => ({
    backend: new LivyBackend({
      name: entry.name,
      url: entry.url,
      ...(entry.yarnUrl ? { yarnUrl: entry.yarnUrl } : {}),
    }),
    maxLive: entry.maxLive ?? s.SPARKGATE_LIVY_MAX_LIVE,
  }),
})
