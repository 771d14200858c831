// `npm run build:cli` (and `prepare`, which `npm ci` and `npm install` run): bundles the CLI
// (src/cli/main.ts, the typed client, commander, cli-progress, openapi-fetch) into one ESM
// file, dist/cli/sparkgate.js, that bin.js loads with no TypeScript loader. One file starts
// fastest: Node resolves and reads one module instead of dozens. Its sources are listed
// beside it (sparkgate.inputs.json) so that bin.js can tell when one changed since the build.
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = fileURLToPath(new URL('../../', import.meta.url))
const out = 'dist/cli/sparkgate.js'
const { metafile } = await build({
  absWorkingDir: root,
  entryPoints: ['src/cli/main.ts'],
  outfile: out,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
  // the CommonJS packages inside (commander, cli-progress) call require() for Node's modules
  banner: {
    js: "import { createRequire as __sparkgateRequire } from 'node:module'; const require = __sparkgateRequire(import.meta.url);",
  },
})
const sources = Object.keys(metafile.inputs).filter((p) => p.startsWith('src/'))
await writeFile(`${root}dist/cli/sparkgate.inputs.json`, `${JSON.stringify(sources, null, 2)}\n`)
