/** The README documents every configuration variable with its real default. */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
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

/** The error codes the gateway can answer with: SPARKGATE_* string literals in src/. */
function errorCodes(dir = 'src'): Set<string> {
  const codes = new Set<string>()
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue
    const text = readFileSync(join(entry.parentPath, entry.name), 'utf8')
    for (const m of text.matchAll(/'(SPARKGATE_[A-Z_]+)'/g)) codes.add(m[1]!)
  }
  return codes
}

t.test('README names no variable or error code that does not exist', async (t) => {
  const known = new Set([...Object.keys(ConfigSchema.properties), ...errorCodes()])
  for (const m of readme.matchAll(/`(SPARKGATE_[A-Z_]+)`/g))
    t.ok(known.has(m[1]!), `${m[1]} exists`)
})

t.test('README states the two commands', async (t) => {
  t.match(readme, 'npm ci && npm run demo')
  t.match(readme, /^npm test\s/m)
  t.match(readFileSync('.ci/run', 'utf8'), /^npm ci\nnpm test$/m, '.ci/run runs exactly them')
})
