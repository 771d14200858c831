/**
 * Following a job to its end (`--wait`, `jobs wait`): over the job's server-sent events,
 * with a live state line on stderr; the exit code says how the job ended.
 */
import type { Command } from 'commander'
import { ApiError, TERMINAL_STATES, type Job, type SparkgateClient } from '../client/client.js'
import { EXIT, type Cli, type Io } from './context.js'
import { seconds } from './format.js'

/** --wait and --idempotency-key, the options of a command that submits a job */
export function waitOptions(c: Command): Command {
  return c
    .option('--wait', 'follow the job (live, over server-sent events) until it ends')
    .option('--idempotency-key <key>', 'a retry with the same key returns the same job')
}

/** after a submit: the job's id and how to follow it, or (--wait) follows it */
export async function afterSubmit(
  cli: Cli,
  cmd: Command,
  job: Job,
  wait: boolean | undefined,
): Promise<void> {
  if (!wait) {
    cli.print(cmd, job, () =>
      [
        `job ${job.id} accepted (${job.state}, backend ${job.backend})`,
        `follow it: sparkgate logs ${job.id} -f   ·   sparkgate jobs show ${job.id}`,
      ].join('\n'),
    )
    return
  }
  cli.exitWith(await waitFor(cli, cli.client(cmd), job, cmd))
}

/** follows a job to its end; the exit code says how it ended */
export async function waitFor(
  { io, globals }: Cli,
  api: SparkgateClient,
  job: Job,
  cmd: Command,
): Promise<number> {
  const json = globals(cmd).json
  const t0 = Date.now()
  const status = json ? undefined : new StatusLine(io, t0)
  let state = job.state
  // the stream replays the job's transitions, then follows it live, and ends (`end`) when
  // the job is terminal; a dropped stream resumes after the last event it delivered
  let lastId: string | undefined
  const ticker = status ? setInterval(() => status.tick(), 1000) : undefined
  try {
    for (let tries = 0; !TERMINAL_STATES.includes(state); tries++) {
      try {
        for await (const e of api.jobEvents(job.id, lastId)) {
          if (e.id !== undefined) lastId = e.id
          if (e.event === 'transition') {
            const t = JSON.parse(e.data) as { to: string; reason?: string }
            state = t.to as Job['state']
            status?.set(`job ${job.id}: ${state}${t.reason ? ` (${t.reason})` : ''}`)
          } else if (e.event === 'end') break
        }
      } catch (err) {
        if (err instanceof ApiError || tries >= 5) throw err
        await new Promise((r) => setTimeout(r, 1000))
      }
      const now = await api.getJob(job.id)
      state = now.state
    }
  } finally {
    if (ticker) clearInterval(ticker)
  }
  const final = await api.getJob(job.id)
  status?.done(`job ${final.id}: ${final.state} after ${seconds(Date.now() - t0)}`)
  if (json) io.out(JSON.stringify(final, null, 2))
  if (final.state === 'succeeded') {
    if (!json) io.out(`result: sparkgate result ${final.id}   ·   logs: sparkgate logs ${final.id}`)
    return EXIT.ok
  }
  if (final.error)
    io.err(`sparkgate: job ${final.state}: ${final.error.message} (${final.error.code})`)
  else io.err(`sparkgate: job ${final.state}`)
  return EXIT.failed
}

/**
 * The live state line of --wait, with the time since the wait began: on a terminal one line
 * redrawn every second; on a pipe one line per transition.
 */
class StatusLine {
  private text = ''
  constructor(
    private readonly io: Io,
    private readonly t0: number,
  ) {}
  private line() {
    return `${this.text}  ${seconds(Date.now() - this.t0)}`
  }
  set(text: string) {
    this.text = text
    if (this.io.tty) process.stderr.write(`\r\x1b[2K${this.line()}`)
    else this.io.err(this.line())
  }
  tick() {
    if (this.io.tty && this.text) process.stderr.write(`\r\x1b[2K${this.line()}`)
  }
  done(text: string) {
    if (this.io.tty) process.stderr.write('\r\x1b[2K')
    this.io.err(text)
  }
}
