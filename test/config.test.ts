import t from 'tap'
import { ConfigError, ConfigSchema, loadConfig } from '../src/config.js'

t.test('with no SPARKGATE_* variable, every default is the local stack', async (t) => {
  const config = loadConfig({ PATH: '/bin' })
  t.equal(config.SPARKGATE_HOST, '127.0.0.1')
  t.equal(config.SPARKGATE_PORT, 8080)
  t.equal(config.SPARKGATE_REDIS_URL, 'redis://127.0.0.1:6380')
  t.equal(config.SPARKGATE_LIVY_URL, 'http://127.0.0.1:8998')
})

t.test('values are converted to their types', async (t) => {
  const config = loadConfig({ SPARKGATE_PORT: '9090', SPARKGATE_LOG_LEVEL: 'debug' })
  t.equal(config.SPARKGATE_PORT, 9090)
  t.equal(config.SPARKGATE_LOG_LEVEL, 'debug')
})

t.test('bad values and unknown names fail at boot, each named', async (t) => {
  const error = (() => {
    try {
      loadConfig({ SPARKGATE_PORT: '70000', SPARKGATE_PROT: '1', SPARKGATE_LIVY_URL: 'not a url' })
    } catch (e) {
      return e
    }
  })()
  t.type(error, ConfigError)
  const problems = (error as ConfigError).problems.join('\n')
  t.match(problems, /SPARKGATE_PORT: .*65535/)
  t.match(problems, /SPARKGATE_PROT: unknown variable/)
  t.match(problems, /SPARKGATE_LIVY_URL: .*pattern/)
})

t.test('every variable has a description and a default', async (t) => {
  for (const [name, schema] of Object.entries(ConfigSchema.properties)) {
    t.ok((schema as { description?: string }).description, `${name} is described`)
    t.not((schema as { default?: unknown }).default, undefined, `${name} has a default`)
  }
})
