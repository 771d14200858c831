/**
 * What every command file of the CLI shares: the exit codes, the output streams, the global
 * options (--url, --key, --json), the client they make, and how a subcommand is declared.
 * One `Cli` is made per run by main.ts and handed to each `register*` function.
 */
import type { Command } from 'commander'
import { DEFAULT_URL, SparkgateClient } from '../client/client.js'

export const EXIT = { ok: 0, failed: 1, usage: 2, unreachable: 3 } as const

/** A mistake in how the command was called (exit 2). */
export class UsageError extends Error {}

export interface Io {
  out: (text: string) => void
  err: (text: string) => void
  env: Record<string, string | undefined>
  /** stderr is a terminal: redraw lines in place */
  tty: boolean
}

export const processIo: Io = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  env: process.env,
  tty: Boolean(process.stderr.isTTY),
}

interface Globals {
  url?: string
  key?: string
  json?: boolean
}

/** The run's streams and the helpers a command's action uses. */
export interface Cli {
  io: Io
  /** raises the run's exit code to `code` (the highest one wins) */
  exitWith: (code: number) => void
  /** --url, --key, --json wherever they were given on the line */
  globals: (cmd: Command) => Globals
  /** a client for the gateway the globals or the environment name; a usage error if none */
  client: (cmd: Command) => SparkgateClient
  /** prints `value` as JSON with --json, else the human text `human()` returns */
  print: (cmd: Command, value: unknown, human: () => string) => void
  /** a subcommand whose action gets its own Command (for the globals) last */
  sub: (parent: Command, spec: string, description: string) => Command
}

export function makeCli(io: Io, exitWith: (code: number) => void): Cli {
  const output = programOutput(io)
  const globals = (cmd: Command) => cmd.optsWithGlobals<Globals>()
  return {
    io,
    exitWith,
    globals,
    client: (cmd) => {
      const g = globals(cmd)
      const url = g.url ?? io.env['SPARKGATE_URL'] ?? DEFAULT_URL
      if (!/^https?:\/\/[^\s/]+/.test(url))
        throw new UsageError(`--url: not an http(s) URL: ${url}`)
      const key = g.key ?? io.env['SPARKGATE_API_KEY']
      if (!key)
        throw new UsageError(
          'no API key: set SPARKGATE_API_KEY or pass --key (`npm run demo` prints one; an admin makes them with `sparkgate keys create`)',
        )
      return new SparkgateClient({ url, key })
    },
    print: (cmd, value, human) =>
      io.out(globals(cmd).json ? JSON.stringify(value, null, 2) : human()),
    sub: (parent, spec, description) =>
      parent.command(spec).description(description).exitOverride().configureOutput(output),
  }
}

/** commander's output, through the run's streams (the root program and every subcommand). */
export function programOutput(io: Io) {
  return {
    writeOut: (s: string) => io.out(s.replace(/\n$/, '')),
    writeErr: (s: string) => io.err(s.replace(/\n$/, '')),
  }
}

/** An option parser: a whole number, else a usage error. */
export function integer(value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`not a whole number: ${value}`)
  return Number(value)
}
