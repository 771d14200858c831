/**
 * `sparkgate`: the command line of the gateway, on the typed client (src/client/).
 *
 * Settings: `--url` / `SPARKGATE_URL` (default the local stack's gateway) and `--key` /
 * `SPARKGATE_API_KEY`. `--json` prints the gateway's JSON for scripts; otherwise tables.
 * Exit codes: 0 done (a waited job succeeded), 1 the gateway refused or a waited job failed
 * or was cancelled, 2 a usage error, 3 the gateway cannot be reached. An error prints the
 * problem's `detail` and `code`, never a stack trace.
 *
 * One file per resource under commands/ registers its commands; this file puts them in
 * one program (in the order `--help` lists them) and turns what a run throws into an exit
 * code. bin.js runs it bundled into one JavaScript file (build.js), or through tsx when the
 * bundle is older than its sources.
 */
import { Command, CommanderError, Option } from 'commander'
import { ApiError, DEFAULT_URL, UnreachableError } from '../client/client.js'
import { registerDatasets } from './commands/datasets.js'
import { registerEngines } from './commands/engines.js'
import { registerIdentity } from './commands/identity.js'
import { registerJobs } from './commands/jobs.js'
import { registerModels } from './commands/models.js'
import { registerSubmit } from './commands/submit.js'
import { registerTenants } from './commands/tenants.js'
import { EXIT, UsageError, makeCli, processIo, programOutput, type Io } from './context.js'

export { EXIT, UsageError, type Io } from './context.js'

/** Runs one command line (argv without node and the script); resolves to the exit code. */
export async function run(argv: string[], io: Io = processIo): Promise<number> {
  let code: number = EXIT.ok
  const program = buildProgram(io, (c) => (code = Math.max(code, c)))
  try {
    await program.parseAsync(argv, { from: 'user' })
    return code
  } catch (err) {
    return report(err, io)
  }
}

function buildProgram(io: Io, exitWith: (code: number) => void): Command {
  const program = new Command('sparkgate')
    .description('Sparkgate: upload datasets, train and run Spark jobs, read logs and models.')
    .version('0.1.0')
    .addOption(new Option('--url <url>', `the gateway (env SPARKGATE_URL; default ${DEFAULT_URL})`))
    .addOption(new Option('--key <key>', 'an API key (env SPARKGATE_API_KEY)'))
    .option('--json', 'print JSON (for scripts) instead of tables')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput(programOutput(io))
  const cli = makeCli(io, exitWith)
  for (const register of [
    registerIdentity, // me, backends
    registerDatasets,
    registerSubmit, // submit, train
    registerJobs, // jobs, logs, result
    registerModels,
    registerEngines,
    registerTenants, // tenants, keys
  ])
    register(program, cli)
  return program
}

function report(err: unknown, io: Io): number {
  if (err instanceof CommanderError) {
    // help and --version are not errors; commander has printed the message already
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok
    if (err.code === 'commander.help') return EXIT.ok
    return EXIT.usage
  }
  if (err instanceof UsageError) {
    io.err(`sparkgate: ${err.message}`)
    return EXIT.usage
  }
  if (err instanceof UnreachableError) {
    io.err(`sparkgate: ${err.message}`)
    io.err(
      'Is it running? `npm run demo` starts the local one; --url or SPARKGATE_URL names another.',
    )
    return EXIT.unreachable
  }
  if (err instanceof ApiError) {
    const p = err.problem
    io.err(`sparkgate: ${p.detail ?? p.title} (${p.code}, HTTP ${err.status})`)
    for (const e of p.errors ?? []) io.err(`  ${e.field}: ${e.message} (${e.rule})`)
    return EXIT.failed
  }
  if (isFileError(err)) {
    io.err(`sparkgate: ${err.message}`)
    return EXIT.usage
  }
  io.err(`sparkgate: ${err instanceof Error ? err.message : String(err)}`)
  return EXIT.failed
}

function isFileError(err: unknown): err is NodeJS.ErrnoException {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return ['ENOENT', 'EACCES', 'EISDIR', 'ENOTDIR', 'EEXIST', 'EROFS'].includes(code ?? '')
}
