/**
 * The `livy` kind: Apache Livy's batch API
 * (`{name, kind: livy, url, yarnUrl?, auth?, caFile?, maxLive?}`): plain, behind a TLS
 * gateway with Basic auth (HDInsight, Knox), or Kerberized (SPNEGO, the gateway's principal
 * impersonating each tenant's cluster user through `proxyUser`).
 */
import { Type } from 'typebox'
import { ClusterAuthSchema } from '../../cluster-auth/auth-schema.js'
import { CredentialError } from '../../cluster-auth/credentials.js'
import {
  credentialsOf,
  parseAuthSetting,
  type KerberosSettings,
} from '../../cluster-auth/settings.js'
import { BackendConfigError, defineBackendKind, entryFields } from '../backend-kind.js'
import { LivyBackend } from './livy-backend.js'

export const livyKind = defineBackendKind({
  kind: 'livy',
  summary: '{name, kind: livy, url, yarnUrl?, auth?, caFile?, maxLive?}',
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
    SPARKGATE_LIVY_AUTH: Type.String({
      default: 'none',
      description:
        'How the gateway authenticates to the `livy` backend of SPARKGATE_BACKENDS=auto: none, or a JSON object {"type":"basic","user":"…","passwordFile":"…"} (or "passwordEnv": the variable holding it) | {"type":"kerberos"} (SPNEGO as SPARKGATE_KERBEROS_PRINCIPAL).',
    }),
    SPARKGATE_LIVY_CA_FILE: Type.String({
      default: '',
      description:
        'PEM file of the private CA of an https SPARKGATE_LIVY_URL (or of the gateway in front of Livy), trusted besides the public CAs.',
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
      auth: Type.Optional(ClusterAuthSchema),
      caFile: Type.Optional(
        Type.String({
          minLength: 1,
          description:
            'PEM file of the private CA of an https url, trusted besides the public CAs.',
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
      ...(s.SPARKGATE_LIVY_AUTH !== 'none'
        ? { auth: parseAuthSetting(s.SPARKGATE_LIVY_AUTH) }
        : {}),
      ...(s.SPARKGATE_LIVY_CA_FILE ? { caFile: s.SPARKGATE_LIVY_CA_FILE } : {}),
      maxLive: s.SPARKGATE_LIVY_MAX_LIVE,
    },
  ],
  create: (entry, s) => {
    try {
      const auth = credentialsOf(
        entry.auth,
        `livy backend ${entry.name}: auth`,
        s as KerberosSettings,
      )
      return {
        backend: new LivyBackend({
          name: entry.name,
          url: entry.url,
          ...(entry.yarnUrl ? { yarnUrl: entry.yarnUrl } : {}),
          auth,
          // read, and so checked, now: at boot, not at the first call
          ...(entry.caFile
            ? { caFile: entry.caFile, caSetting: `livy backend ${entry.name}: caFile` }
            : {}),
        }),
        maxLive: entry.maxLive ?? s.SPARKGATE_LIVY_MAX_LIVE,
      }
    } catch (error) {
      if (error instanceof CredentialError) throw new BackendConfigError(error.message)
      throw error
    }
  },
})
