#!/usr/bin/env node
// `sparkgate` (package.json "bin"; `npx sparkgate …` in a checkout), whatever the working
// directory. It runs dist/cli/sparkgate.js, the CLI compiled into one file by
// `npm run build:cli` (build.js; `npm ci` runs it as `prepare`): no TypeScript loader at
// start. When that bundle is missing, or one of its sources (listed beside it at build time)
// is newer than it — src edited and not rebuilt — the TypeScript runs through tsx instead,
// as it did before the bundle: slower to start, never stale. `npm run build:cli` rebuilds.
import { readFileSync, statSync } from 'node:fs'

const root = new URL('../../', import.meta.url)
const bundle = new URL('dist/cli/sparkgate.js', root)

function built() {
  try {
    const at = statSync(bundle).mtimeMs
    const sources = JSON.parse(readFileSync(new URL('dist/cli/sparkgate.inputs.json', root)))
    return sources.every((path) => statSync(new URL(path, root)).mtimeMs <= at)
  } catch {
    return false // no bundle, no list, or a source gone: the build is not this checkout's
  }
}

let main
if (built()) main = await import(bundle.href)
else {
  const { register } = await import('tsx/esm/api')
  register()
  main = await import('./main.ts')
}
process.exitCode = await main.run(process.argv.slice(2))
