/**
 * The backends the fault suite runs its scenarios on, each with a census: every batch it
 * ever ran for the scenario and how that batch ended (its fate), read from the backend's
 * side — the double's journal, the real Livy's /batches (plus what it listed just before
 * each restart), the local backend's batch folders and spark-submit's own journal.
 *
 * - `double`: the Livy-shaped responder (./livy-double.ts) in its own process (N = 1,000)
 * - `livy`: the real Livy — the stack's, or one of the scenario's own (`own`), which the
 *   `backend` fault kills and restarts, with recovery (`recovery`: on its state store, as
 *   production runs it) or without; jobs run a real PySpark file (on YARN)
 * - `local`: spark-submit of a local Spark — a stand-in script journaling each start
 *   (`fake`, N = 1,000), or the stack's real Spark
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, openSync } from 'node:fs'
import { appendFile, chmod, mkdir, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { webHdfsFromConfig } from '../../src/plugins/hdfs.js'
import { configWith } from '../../src/config.js'
import { quietPort } from '../../bench/ports.js'
import type { JournalEntry } from './livy-double.js'

export const ROOT = fileURLToPath(new URL('../../', import.meta.url))

/** What became of a batch: still running, ended on its own, killed, or lost with its backend. */
export type Fate = 'live' | 'success' | 'dead' | 'killed' | 'lost'
export interface CensusBatch {
  /** the batch name: the job id, `.N` for attempt N > 1 */
  name: string
  fate: Fate
  /** its backend forgot it (restarted without recovery since) */
  gone?: boolean
}
/** What a job's application does: end well, fail, or run long (for timeouts and cancels). */
export type AppKind = 'ok' | 'fail' | 'long'

export interface ChaosBackend {
  label: string
  /** the SPARKGATE_BACKENDS entry (named `chaos`) */
  entry: Record<string, unknown>
  /** the batch part of a job spec */
  batch(kind: AppKind): { file: string; args?: string[] }
  census(): Promise<CensusBatch[]>
  /** kill -9 and start again, remembering nothing (Livy without recovery) */
  crash?(): Promise<void>
  close(): Promise<void>
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

export function killGroup(child: ChildProcess | undefined) {
  try {
    if (child?.pid) process.kill(-child.pid, 'SIGKILL')
  } catch {
    // gone already
  }
}

const appArgs = (kind: AppKind, longMs: number) =>
  kind === 'fail' ? ['fail'] : kind === 'long' ? [`ms:${longMs}`] : []

/** The Livy-shaped double, restartable on its port with ids from 0 again. */
export async function livyDouble(o: {
  logDir: string
  startMs?: number
  longMs?: number
}): Promise<ChaosBackend> {
  const journal = join(o.logDir, `livy-double-${randomUUID().slice(0, 8)}.jsonl`)
  await writeFile(journal, '')
  const deaths = new Map<number, number>()
  let child: ChildProcess | undefined
  // restarted on the same port after each crash: one that no outgoing socket takes meanwhile
  const port = await quietPort()
  let inc = 0
  const start = async () => {
    inc++
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./livy-double.ts', import.meta.url)),
        String(o.startMs ?? 500),
        journal,
        String(port),
        String(inc),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
    )
    const started = child
    return new Promise<string>((resolve, reject) => {
      const exited = (code: number | null) =>
        reject(new Error(`the Livy double exited (${code}) before it listened on ${port}`))
      started.once('exit', exited)
      started.stdout!.once('data', (line: Buffer) => {
        started.off('exit', exited)
        resolve(String(line).trim())
      })
    })
  }
  const url = await start()
  return {
    label: 'Livy-shaped double',
    entry: { name: 'chaos', kind: 'livy', url, maxLive: 10000 },
    batch: (kind) => ({
      file: 'hdfs://127.0.0.1:8020/chaos/app.py',
      args: appArgs(kind, o.longMs ?? 20_000),
    }),
    async census() {
      const now = Date.now()
      const lines = (await readFile(journal, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as JournalEntry)
      const kills = new Map(
        lines.flatMap((l) => (l.t === 'kill' ? [[`${l.inc}:${l.id}`, l.at] as const] : [])),
      )
      return lines.flatMap((l) => {
        if (l.t !== 'create' || !l.name) return []
        const death = deaths.get(l.inc)
        const until = death ?? now
        const killed = kills.get(`${l.inc}:${l.id}`)
        const fate: Fate =
          killed !== undefined && killed < l.endsAt
            ? 'killed'
            : l.endsAt <= until
              ? l.fail
                ? 'dead'
                : 'success'
              : death !== undefined
                ? 'lost'
                : 'live'
        return [{ name: l.name, fate, ...(death !== undefined ? { gone: true } : {}) }]
      })
    },
    async crash() {
      killGroup(child)
      deaths.set(inc, Date.now())
      await sleep(300 + Math.random() * 700)
      for (let i = 0; ; i++) {
        try {
          await start()
          return
        } catch (error) {
          // the port not free yet
          if (i > 50) throw error
          await sleep(100)
        }
      }
    },
    async close() {
      killGroup(child)
    },
  }
}

/** A PySpark file for the real backends: a Spark session, then its arguments' behaviour. */
const CHAOS_APP = `import sys
import time

from pyspark.sql import SparkSession

args = sys.argv[1:]
spark = SparkSession.builder.appName("sparkgate-chaos").getOrCreate()
spark.range(1000).count()
for a in args:
    if a.startswith("ms:"):
        time.sleep(int(a[3:]) / 1000)
spark.stop()
sys.exit(1 if "fail" in args else 0)
`

async function stageApp(tag: string) {
  const c = configWith({})
  const hdfs = webHdfsFromConfig(c)
  const dir = `/sparkgate-chaos/${tag}`
  await hdfs.mkdirs(dir)
  await hdfs.create(`${dir}/chaos_app.py`, Buffer.from(CHAOS_APP), { overwrite: true })
  return {
    file: `${c.SPARKGATE_HDFS_DEFAULT_FS}${dir}/chaos_app.py`,
    remove: () => hdfs.delete(dir, true).catch(() => undefined),
  }
}

const LIVY_LIVE = new Set([
  'not_started',
  'starting',
  'running',
  'busy',
  'idle',
  'shutting_down',
  'recovering',
])
const livyFate = (state: string): Fate =>
  state === 'success'
    ? 'success'
    : state === 'killed'
      ? 'killed'
      : LIVY_LIVE.has(state)
        ? 'live'
        : 'dead'

/**
 * The real Livy: the stack's (`own: false`; its other batches are not counted), or the
 * scenario's own on a free port, which `crash` kills (kill -9 of its process group) and
 * starts again. Without `recovery`, on a fresh state folder: it forgets every batch and
 * numbers new ones from 0 again (what ran is counted as lost). With `recovery`, on the same
 * folder: it recovers its batches, whose YARN applications ran on meanwhile.
 */
export async function realLivy(o: {
  logDir: string
  own: boolean
  recovery?: boolean
  longMs?: number
  maxLive?: number
}): Promise<ChaosBackend> {
  const tag = randomUUID().slice(0, 8)
  const app = await stageApp(tag)
  let url = configWith({}).SPARKGATE_LIVY_URL
  let child: ChildProcess | undefined
  const before: CensusBatch[] = []
  const port = await quietPort()
  const kept = o.recovery ? await mkdtemp(join(o.logDir, 'livy-')) : undefined
  const start = async () => {
    const dir = kept ?? (await mkdtemp(join(o.logDir, 'livy-')))
    child = spawn('bash', ['docker/local/stack.sh', 'run-livy', String(port), dir], {
      cwd: ROOT,
      detached: true,
      stdio: 'ignore',
    })
    url = `http://127.0.0.1:${port}`
    const deadline = Date.now() + 180_000
    for (;;) {
      try {
        if ((await fetch(`${url}/batches?size=1`)).ok) return
      } catch {
        // not up yet
      }
      if (child.exitCode !== null) throw new Error(`the scenario's Livy exited; logs in ${dir}`)
      if (Date.now() > deadline) throw new Error('the scenario Livy did not start')
      await sleep(500)
    }
  }
  if (o.own) await start()
  const list = async (): Promise<CensusBatch[]> => {
    const r = (await (await fetch(`${url}/batches?from=0&size=100000`)).json()) as {
      sessions: { name: string | null; state: string }[]
    }
    return r.sessions.flatMap((s) => (s.name ? [{ name: s.name, fate: livyFate(s.state) }] : []))
  }
  return {
    label: o.own
      ? `real Livy on YARN (its own, restarted ${o.recovery ? 'with' : 'without'} recovery)`
      : "real Livy on YARN (the stack's)",
    entry: { name: 'chaos', kind: 'livy', url, maxLive: o.maxLive ?? 4 },
    batch: (kind) => ({ file: app.file, args: appArgs(kind, o.longMs ?? 60_000) }),
    async census() {
      return [...before, ...(await list())]
    },
    ...(o.own
      ? {
          async crash() {
            // without recovery, what it knew just before: whatever was still running is
            // lost to it (with recovery, the restarted Livy lists those batches itself)
            if (!o.recovery)
              for (const b of await list().catch(() => []))
                before.push({ ...b, fate: b.fate === 'live' ? 'lost' : b.fate, gone: true })
            killGroup(child)
            await sleep(1000)
            await start()
          },
        }
      : {}),
    async close() {
      killGroup(child)
      await app.remove()
    },
  }
}

/** A stand-in spark-submit: journals each start, then does what its last argument says. */
const FAKE_SPARK_SUBMIT = (journal: string, startMs: number) => `#!/bin/bash
name=""
prev=""
for a in "$@"; do
  [ "$prev" = "--name" ] && name="$a"
  prev="$a"
done
echo "$name" >> ${journal}
what="\${*: -1}"
sleep ${startMs / 1000}
case "$what" in
  ms:*) sleep "$(( \${what#ms:} / 1000 ))" ;;
  fail) exit 1 ;;
esac
exit 0
`

/**
 * The local backend: spark-submit children of the gateway in their own process groups,
 * their state in batch folders of a scenario workdir. `fake`: a stand-in spark-submit
 * journaling every start by name (so a second start of one batch shows); else the stack's
 * Spark running a real PySpark file.
 */
export async function localSpark(o: {
  logDir: string
  fake: boolean
  startMs?: number
  longMs?: number
  maxLive?: number
}): Promise<ChaosBackend> {
  const workdir = await mkdtemp(join(o.logDir, 'local-'))
  const journal = join(o.logDir, `spark-submit-${randomUUID().slice(0, 8)}.log`)
  await appendFile(journal, '')
  let sparkHome: string | undefined
  let app: Awaited<ReturnType<typeof stageApp>> | undefined
  if (o.fake) {
    sparkHome = await mkdtemp(join(o.logDir, 'spark-'))
    await mkdir(join(sparkHome, 'bin'))
    const submit = join(sparkHome, 'bin', 'spark-submit')
    await writeFile(submit, FAKE_SPARK_SUBMIT(journal, o.startMs ?? 500))
    await chmod(submit, 0o755)
  } else app = await stageApp(randomUUID().slice(0, 8))
  const folderFate = async (name: string): Promise<Fate> => {
    const dir = join(workdir, name)
    const read = (f: string) => readFile(join(dir, f), 'utf8').catch(() => undefined)
    const exit = await read('exit')
    if (exit !== undefined) {
      if (existsSync(join(dir, 'cancelled'))) return 'killed'
      return exit.trim() === '0' ? 'success' : 'dead'
    }
    const pid = Number(await read('pid'))
    if (pid > 0) {
      try {
        process.kill(pid, 0)
        return 'live'
      } catch {
        return 'lost'
      }
    }
    return 'lost'
  }
  const folders = async () =>
    (await readdir(workdir, { withFileTypes: true }))
      .filter((d) => d.isDirectory() && !d.name.startsWith('.'))
      .map((d) => d.name)
  return {
    label: o.fake ? 'local backend, stand-in spark-submit' : 'local backend, real Spark',
    entry: {
      name: 'chaos',
      kind: 'local',
      workdir,
      master: 'local[1]',
      maxLive: o.maxLive ?? (o.fake ? 10000 : 2),
      ...(sparkHome ? { sparkHome } : {}),
    },
    batch: (kind) => ({
      file: app?.file ?? 'hdfs://127.0.0.1:8020/chaos/app.py',
      args: appArgs(kind, o.longMs ?? (o.fake ? 20_000 : 60_000)),
    }),
    async census() {
      // one entry per start of spark-submit (the stand-in's journal), else per folder
      const names = o.fake
        ? (await readFile(journal, 'utf8')).split('\n').filter(Boolean)
        : await folders()
      return Promise.all(names.map(async (name) => ({ name, fate: await folderFate(name) })))
    },
    async close() {
      // the wrappers outlive gateways by design; the scenario's end is theirs
      for (const name of await folders().catch(() => [])) {
        const pid = Number(await readFile(join(workdir, name, 'pid'), 'utf8').catch(() => ''))
        if (pid > 0)
          try {
            process.kill(-pid, 'SIGKILL')
          } catch {
            // ended
          }
      }
      await app?.remove()
    },
  }
}

/** gateway logs of a scenario, appended */
export const logFile = (logDir: string) => openSync(join(logDir, 'gateways.log'), 'a')
