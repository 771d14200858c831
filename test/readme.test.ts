/** The README documents every configuration variable with its real default. */
import t from 'tap'
import { readFileSync } from 'node:fs'
import { ConfigSchema } from '../src/config.js'

const readme = readFileSync('README.md', 'utf8')

t.test('README lists every SPARKGATE_* variable with its default', async (t) => {
  for (const [name, schema] of Object.entries(ConfigSchema.properties)) {
    const fallback = String((schema as { default?: unknown }).default)
    const row = readme.split('\n').find((line) => line.startsWith(`| \`${name}\` |`))
    t.ok(row, `${name} has a row`)
    t.match(row ?? '', `| \`${fallback}\` |`, `${name} default ${fallback}`)
  }
})

t.test('README names no variable that does not exist', async (t) => {
  const known = Object.keys(ConfigSchema.properties)
  for (const m of readme.matchAll(/`(SPARKGATE_[A-Z_]+)`/g))
    t.ok(known.includes(m[1]!), `${m[1]} exists`)
})

t.test('README states the two commands', async (t) => {
  t.match(readme, 'npm ci && npm run demo')
  t.match(readme, /^npm test\s/m)
  t.match(readFileSync('.ci/run', 'utf8'), /^npm ci\nnpm test$/m, '.ci/run runs exactly them')
})
