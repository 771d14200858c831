/** docs/configuration.md is generated from the config schema; it must not drift from it. */
import { readFile } from 'node:fs/promises'
import t from 'tap'
import { ConfigSchema } from '../../src/config.js'
import { CONFIG_DOC_FILE, configDoc } from '../../src/tools/config-doc.js'

t.test(
  'docs/configuration.md is what the config schema says (run `npm run docs:config`)',
  async (t) => {
    const committed = await readFile(CONFIG_DOC_FILE, 'utf8')
    t.equal(committed, configDoc(), 'docs/configuration.md has drifted from the config schema')
  },
)

t.test('every SPARKGATE_* variable has a section with its default, secrets without', async (t) => {
  const page = configDoc()
  for (const [name, schema] of Object.entries(ConfigSchema.properties)) {
    const { default: fallback, secret } = schema as { default?: unknown; secret?: boolean }
    const section = page.split(`\n### ${name}\n`)[1]?.split('\n#')[0]
    t.ok(section, `${name} has a section`)
    const shown = String(fallback) === '' ? 'Default: empty.' : `Default: \`${String(fallback)}\`.`
    if (secret) t.match(section ?? '', 'Default: not shown (a secret).', `${name}: a secret`)
    else t.match(section ?? '', shown, `${name} default ${String(fallback)}`)
  }
})

t.test('a secret default is never printed', async (t) => {
  const secrets = Object.entries(ConfigSchema.properties).filter(
    ([, s]) => (s as { secret?: boolean }).secret,
  )
  t.ok(secrets.length >= 3, 'the schema marks its secrets')
  const schema = ConfigSchema as unknown as { properties: Record<string, { default?: unknown }> }
  const original = schema.properties['SPARKGATE_ADMIN_KEY']!.default
  schema.properties['SPARKGATE_ADMIN_KEY']!.default = 'sgk_a-secret-default-000000000000'
  try {
    t.notMatch(configDoc(), 'sgk_a-secret-default', 'not on the page')
  } finally {
    schema.properties['SPARKGATE_ADMIN_KEY']!.default = original
  }
})
