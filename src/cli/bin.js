#!/usr/bin/env node
// `sparkgate` (package.json "bin"; `npx sparkgate …` in a checkout): the CLI's TypeScript
// runs through tsx, resolved from this file's package, whatever the working directory.
import { register } from 'tsx/esm/api'

register()
const { run } = await import('./main.ts')
process.exitCode = await run(process.argv.slice(2))
