/**
 * The README and docs/ name only variables and error codes that exist, and the README
 * states the two commands. (docs/configuration.md, with every variable and its default,
 * is generated from the config schema: test/docs/configuration.test.ts.)
 */
import t from 'tap'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigSchema } from '../src/config.js'

const readme = readFileSync('README.md', 'utf8')

/** README.md and every page under docs/. */
const pages = [
  'README.md',
  ...readdirSync('docs', { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.md'))
    .map((e) => join(e.parentPath, e.name)),
]

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

t.test('README and docs/ name no variable or error code that does not exist', async (t) => {
  t.ok(pages.includes(join('docs', 'api-guide.md')), 'docs/ is read')
  const known = new Set([...Object.keys(ConfigSchema.properties), ...errorCodes()])
  for (const page of pages) {
    for (const m of readFileSync(page, 'utf8').matchAll(/`(SPARKGATE_[A-Z_]+)`/g))
      t.ok(known.has(m[1]!), `${page}: ${m[1]} exists`)
  }
})

t.test('README states the two commands', async (t) => {
  t.match(readme, 'npm ci && npm run demo')
  t.match(readme, /^npm test\s/m)
  t.match(readFileSync('.ci/run', 'utf8'), /^npm ci\nnpm test$/m, '.ci/run runs exactly them')
})

t.test('README stays short', async (t) => {
  const lines = readme.split('\n').length - 1
  t.ok(lines <= 250, `README.md is ${lines} lines (at most 250: the rest belongs in docs/)`)
})
