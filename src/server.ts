/** Process entry: config, listen, graceful close on SIGTERM/SIGINT. */
import { buildApp } from './app.js'
import { BackendConfigError } from './backends/backend-kind.js'
import { CredentialError } from './cluster-auth/credentials.js'
import { ConfigError, loadConfig } from './config.js'

async function main() {
  let config
  try {
    config = loadConfig()
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`sparkgate: ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  let app
  try {
    app = await buildApp(config)
  } catch (error) {
    // a backend entry that only its kind can judge (a local backend without Spark, …); a
    // password file, keytab or CA file that cannot be read
    if (error instanceof BackendConfigError || error instanceof CredentialError) {
      process.stderr.write(`sparkgate: invalid configuration:\n  ${error.message}\n`)
      process.exit(2)
    }
    throw error
  }
  let closing = false
  const close = (signal: string) => {
    if (closing) return
    closing = true
    app.log.info({ signal }, 'shutting down: no new requests, finishing in-flight work')
    const force = setTimeout(() => process.exit(1), config.SPARKGATE_WORKER_LOCK_MS + 10_000)
    force.unref()
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while closing')
        process.exit(1)
      },
    )
  }
  process.once('SIGTERM', () => close('SIGTERM'))
  process.once('SIGINT', () => close('SIGINT'))
  await app.listen({ host: config.SPARKGATE_HOST, port: config.SPARKGATE_PORT })
}

main().catch((error: unknown) => {
  process.stderr.write(`sparkgate: failed to start: ${(error as Error).stack ?? String(error)}\n`)
  process.exit(1)
})
