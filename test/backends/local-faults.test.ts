/**
 * The local backend across crashes (issue 14, window 7): real bash wrappers around a fake
 * spark-submit (its last argument says what the "application" does), and the crashes
 * simulated on the batch folders — a folder left without its submission, a submission
 * without a pid, a pid reused by an unrelated process, a cancel after the end.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { LocalBackend, type LocalBackendOptions } from '../../src/backends/local/local-backend.js'
import { wrapperArgv } from '../../src/backends/local/wrapper.js'
import type { BackendRef } from '../../src/domain/job-schema.js'
import {
  batchKey,
  BackendError,
  type BatchStatus,
  type BatchSubmission,
} from '../../src/domain/ports/spark-backend.js'
import { uniqueId } from '../helpers/stack.js'

const FAKE_SPARK_SUBMIT = `#!/bin/bash
# a stand-in for spark-submit: the application's last argument says what it does
echo "fake spark-submit $*"
what="\${*: -1}"
case "$what" in
  sleep:*) exec sleep "\${what#sleep:}" ;;
  stubborn:*) trap '' TERM; exec sleep "\${what#stubborn:}" ;;
  exit:*) exit "\${what#exit:}" ;;
esac
`

const root = await mkdtemp(join(tmpdir(), 'sparkgate-local-faults-'))
const sparkHome = join(root, 'spark')
const app = join(root, 'app.py')
await mkdir(join(sparkHome, 'bin'), { recursive: true })
await writeFile(join(sparkHome, 'bin', 'spark-submit'), FAKE_SPARK_SUBMIT)
await chmod(join(sparkHome, 'bin', 'spark-submit'), 0o755)
await writeFile(app, '# the fake spark-submit never reads it\n')

/** Processes a test started or may have left: killed at the end, whatever happened. */
const groups = new Set<number>()
t.teardown(async () => {
  for (const pgid of groups) {
    try {
      process.kill(-pgid, 'SIGKILL')
    } catch {
      // ended
    }
  }
  await rm(root, { recursive: true, force: true })
})

async function fresh(options: Partial<LocalBackendOptions> = {}) {
  const workdir = await mkdtemp(join(root, 'work-'))
  const backend = new LocalBackend({
    name: 'local',
    sparkHome,
    workdir,
    master: 'local[1]',
    killGraceMs: 500,
    startGraceMs: 2000,
    ...options,
  })
  return { backend, workdir }
}

const batch = (what: string, name = uniqueId('b')): BatchSubmission => ({
  name,
  file: app,
  args: [what],
})
const refOf = (name: string): BackendRef => ({ batchId: name, batchName: name })
const kindOf = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: unknown) => (e instanceof BackendError ? e.kind : String(e)),
  )
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

async function statusOf(backend: LocalBackend, ref: BackendRef) {
  return (await backend.statusMany([ref])).get(batchKey(ref))
}

async function until(
  backend: LocalBackend,
  ref: BackendRef,
  done: (s: BatchStatus | undefined) => boolean,
  timeoutMs = 20_000,
) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const status = await statusOf(backend, ref)
    if (done(status)) return status
    if (Date.now() > deadline)
      throw new Error(`${ref.batchId} still ${JSON.stringify(status)} after ${timeoutMs} ms`)
    await sleep(50)
  }
}

const ended = (s: BatchStatus | undefined) =>
  s !== undefined && ['succeeded', 'failed', 'killed'].includes(s.phase)

async function pidOf(dir: string, timeoutMs = 10_000): Promise<number> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const pid = await readFile(join(dir, 'pid'), 'utf8').catch(() => undefined)
    if (pid) return Number(pid)
    if (Date.now() > deadline) throw new Error(`no pid in ${dir}`)
    await sleep(20)
  }
}

/** pid, state and process group of a live process, from /proc (zombies count as ended). */
async function proc(pid: number) {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  if (!stat) return undefined
  const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return state === 'Z' ? undefined : { state, pgrp: Number(pgrp) }
}

/** The live members of a process group. */
async function members(pgid: number) {
  const out: number[] = []
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    if ((await proc(Number(entry)))?.pgrp === pgid) out.push(Number(entry))
  }
  return out
}

async function untilGone(pgid: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs
  while ((await members(pgid)).length > 0) {
    if (Date.now() > deadline) return false
    await sleep(50)
  }
  return true
}

/** An unrelated process in a group of its own (what a reused pid may name). */
function bystander(): ChildProcess & { pid: number } {
  const child = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' })
  child.unref()
  groups.add(child.pid!)
  return child as ChildProcess & { pid: number }
}

/** A batch folder as a submit left it: submission.json, optionally older than now. */
async function folder(workdir: string, name: string, ageMs = 0) {
  const dir = join(workdir, name)
  await mkdir(dir)
  await writeFile(join(dir, 'submission.json'), JSON.stringify(batch('exit:0', name)))
  if (ageMs) await backdate(join(dir, 'submission.json'), ageMs)
  return dir
}

async function backdate(path: string, ageMs: number) {
  const then = new Date(Date.now() - ageMs)
  await utimes(path, then, then)
}

t.test('window 1: the batch folder appears with its submission, atomically', async (t) => {
  await t.test(
    'an interrupted submit left an empty folder: the submit takes it over',
    async (t) => {
      const { backend, workdir } = await fresh()
      const name = uniqueId('empty')
      await mkdir(join(workdir, name)) // the old submit: mkdir, then a crash before the write
      t.equal(await backend.findByName(name), undefined, 'not a submitted batch')
      t.equal(await statusOf(backend, refOf(name)), undefined)
      t.equal(await kindOf(backend.submit(batch('exit:0', name))), 'accepted')
      t.same(await backend.findByName(name), refOf(name))
      t.equal((await until(backend, refOf(name), ended))?.phase, 'succeeded')
    },
  )

  await t.test(
    'a leftover folder with files but no submission: taken over after the grace',
    async (t) => {
      const { backend, workdir } = await fresh()
      const name = uniqueId('leftover')
      const dir = join(workdir, name)
      await mkdir(dir)
      await writeFile(join(dir, 'log'), 'stray\n')
      t.equal(
        await kindOf(backend.submit(batch('exit:0', name))),
        'transient',
        'young: retried later, not a duplicate nobody can find',
      )
      await backdate(dir, 5000)
      t.equal(await kindOf(backend.submit(batch('exit:0', name))), 'accepted')
      t.equal((await until(backend, refOf(name), ended))?.phase, 'succeeded')
      t.notOk((await readFile(join(dir, 'log'), 'utf8')).includes('stray'), 'a fresh folder')
    },
  )

  await t.test('a crash before the rename leaves nothing under the name', async (t) => {
    const { backend, workdir } = await fresh()
    const name = uniqueId('temp')
    const temp = join(workdir, `.tmp-${randomUUID()}`)
    await mkdir(temp)
    await writeFile(join(temp, 'submission.json'), JSON.stringify(batch('exit:0', name)))
    t.equal(await backend.findByName(name), undefined)
    t.equal(await statusOf(backend, refOf(name)), undefined)
    t.equal(await kindOf(backend.submit(batch('exit:0', name))), 'accepted')
    const submitted = JSON.parse(await readFile(join(workdir, name, 'submission.json'), 'utf8'))
    t.equal(submitted.name, name)
  })

  await t.test('same-name submits at once: one batch, the others duplicates', async (t) => {
    const { backend, workdir } = await fresh()
    const name = uniqueId('race')
    const kinds = await Promise.all(
      Array.from({ length: 6 }, () => kindOf(backend.submit(batch('exit:0', name)))),
    )
    t.same(kinds.sort(), [
      'accepted',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
      'duplicate',
    ])
    t.equal((await until(backend, refOf(name), ended))?.phase, 'succeeded')
    const log = await backend.logs(refOf(name), 0, 100)
    t.equal(log.lines.filter((l) => l.startsWith('fake spark-submit')).length, 1, 'ran once')
    t.same(
      (await readdir(workdir)).filter((e) => e.startsWith('.tmp-')),
      [],
      'no temp folder left',
    )
  })

  await t.test('temp folders of crashed submits are swept after an hour', async (t) => {
    const { backend, workdir } = await fresh()
    const old = join(workdir, '.tmp-old')
    const young = join(workdir, '.tmp-young')
    await mkdir(old)
    await mkdir(young)
    await backdate(old, 2 * 3_600_000)
    t.equal(await kindOf(backend.submit(batch('exit:0'))), 'accepted')
    const left = await readdir(workdir)
    t.notOk(left.includes('.tmp-old'), 'an hour old: removed')
    t.ok(left.includes('.tmp-young'), 'possibly a submit under way: kept')
  })
})

t.test('window 2: a batch always records its pid, or is reported never started', async (t) => {
  await t.test('the wrapper records its own pid: the leader of its group', async (t) => {
    const { backend, workdir } = await fresh()
    const name = uniqueId('pid')
    await backend.submit(batch('sleep:300', name))
    const dir = join(workdir, name)
    const pid = await pidOf(dir)
    groups.add(pid)
    t.equal((await proc(pid))?.pgrp, pid, 'its own process group')
    const argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0')
    t.ok(argv.includes('sparkgate-local') && argv.includes(dir), 'the wrapper of this batch')
    t.equal((await until(backend, refOf(name), (s) => s?.phase === 'running'))?.phase, 'running')
    await backend.cancel(refOf(name))
    t.equal((await until(backend, refOf(name), ended))?.phase, 'killed')
  })

  await t.test('a submission without a pid: pending, then never started', async (t) => {
    const { backend, workdir } = await fresh()
    const name = uniqueId('nopid')
    const dir = await folder(workdir, name) // the gateway died after the rename
    t.same(await backend.findByName(name), refOf(name), 'adoptable')
    t.equal(await kindOf(backend.submit(batch('exit:0', name))), 'duplicate')
    t.same(await statusOf(backend, refOf(name)), { phase: 'pending', rawState: 'starting' })
    await backdate(join(dir, 'submission.json'), 5000)
    t.same(await statusOf(backend, refOf(name)), {
      phase: 'failed',
      rawState: 'never started',
    })
    t.same(await statusOf(backend, refOf(name)), {
      phase: 'failed',
      rawState: 'never started',
    })
  })

  await t.test('a wrapper that starts after the never-started verdict runs nothing', async (t) => {
    const { backend, workdir } = await fresh()
    const name = uniqueId('late')
    const dir = await folder(workdir, name, 5000)
    t.equal((await statusOf(backend, refOf(name)))?.rawState, 'never started')
    const late = spawn(
      'bash',
      wrapperArgv(dir, [join(sparkHome, 'bin', 'spark-submit'), 'exit:0']),
      {
        stdio: 'ignore',
      },
    )
    const code = await new Promise((resolve) => late.once('exit', resolve))
    t.equal(code, 143)
    t.equal(await readFile(join(dir, 'log'), 'utf8').catch(() => 'none'), 'none', 'not run')
    t.same(await statusOf(backend, refOf(name)), {
      phase: 'failed',
      rawState: 'never started',
    })
  })

  await t.test('a cancel before the wrapper recorded its pid: it runs nothing', async (t) => {
    const { backend, workdir } = await fresh()
    const name = uniqueId('early-cancel')
    const dir = await folder(workdir, name)
    await backend.cancel(refOf(name))
    t.same(await statusOf(backend, refOf(name)), { phase: 'killed', rawState: 'killed' })
    const late = spawn(
      'bash',
      wrapperArgv(dir, [join(sparkHome, 'bin', 'spark-submit'), 'sleep:300']),
      { stdio: 'ignore' },
    )
    t.equal(await new Promise((resolve) => late.once('exit', resolve)), 143)
    t.equal(await readFile(join(dir, 'log'), 'utf8').catch(() => 'none'), 'none', 'not run')
    t.same(await statusOf(backend, refOf(name)), { phase: 'killed', rawState: 'killed' })
  })
})

t.test('window 3: a pid is trusted only while it is still our wrapper', async (t) => {
  await t.test(
    'a pid reused by an unrelated process: lost, and cancel leaves it alone',
    async (t) => {
      const { backend, workdir } = await fresh()
      const name = uniqueId('reused')
      const dir = await folder(workdir, name)
      const other = bystander()
      await writeFile(join(dir, 'pid'), String(other.pid)) // the wrapper died, its pid reused
      t.same(await statusOf(backend, refOf(name)), { phase: 'failed', rawState: 'lost' })
      await backend.cancel(refOf(name))
      await sleep(1000) // past killGraceMs: no SIGTERM, no SIGKILL either
      t.ok(await proc(other.pid), 'the unrelated process was not signalled')
      t.same(await statusOf(backend, refOf(name)), { phase: 'killed', rawState: 'killed' })
    },
  )

  await t.test('a reused pid and an exit code: the exit code decides', async (t) => {
    const { backend, workdir } = await fresh()
    const name = uniqueId('reused-exit')
    const dir = await folder(workdir, name)
    await writeFile(join(dir, 'pid'), String(bystander().pid))
    await writeFile(join(dir, 'exit'), '0\n')
    t.same(await statusOf(backend, refOf(name)), { phase: 'succeeded', rawState: 'success' })
  })

  await t.test('a pid that is nothing sane is never signalled', async (t) => {
    const { backend, workdir } = await fresh()
    // (not 1 or -1 here: a regression would signal init, or every process)
    for (const pid of ['0', 'garbage', '', '99999999']) {
      const name = uniqueId('insane')
      const dir = await folder(workdir, name)
      await writeFile(join(dir, 'pid'), pid)
      t.same(await statusOf(backend, refOf(name)), { phase: 'failed', rawState: 'lost' }, pid)
      await backend.cancel(refOf(name)) // 0 would be our own group
    }
    t.pass('still here')
  })

  await t.test(
    'cancel: SIGKILL after the grace reaches an application ignoring SIGTERM',
    async (t) => {
      const { backend, workdir } = await fresh()
      const name = uniqueId('stubborn')
      await backend.submit(batch('stubborn:300', name))
      const pid = await pidOf(join(workdir, name))
      groups.add(pid)
      await until(backend, refOf(name), (s) => s?.phase === 'running')
      await sleep(300) // the fake spark-submit has set its trap
      await backend.cancel(refOf(name))
      t.ok(await untilGone(pid), 'no process of the batch is left')
      t.same(await until(backend, refOf(name), ended), { phase: 'killed', rawState: 'killed' })
    },
  )

  await t.test('without /proc: kill -0 still tracks and cancels a batch', async (t) => {
    const { backend, workdir } = await fresh({ procfs: join(root, 'no-proc') })
    const name = uniqueId('noproc')
    await backend.submit(batch('sleep:300', name))
    const pid = await pidOf(join(workdir, name))
    groups.add(pid)
    t.equal((await until(backend, refOf(name), (s) => s?.phase === 'running'))?.phase, 'running')
    await backend.cancel(refOf(name))
    t.same(await until(backend, refOf(name), ended), { phase: 'killed', rawState: 'killed' })
    t.ok(await untilGone(pid))
    const done = uniqueId('noproc-done')
    await backend.submit(batch('exit:0', done))
    t.equal((await until(backend, refOf(done), ended))?.phase, 'succeeded')
  })
})

t.test('window 4: exit code, process and cancel marker read consistently', async (t) => {
  await t.test('a wrapper ending while status is read is never lost', async (t) => {
    const { backend } = await fresh()
    const names = Array.from({ length: 16 }, () => uniqueId('quick'))
    await Promise.all(names.map((name) => backend.submit(batch('exit:0', name))))
    const seen = new Set<string>()
    await Promise.all(
      names.map(async (name) => {
        for (;;) {
          const status = await statusOf(backend, refOf(name))
          seen.add(`${status?.phase}/${status?.rawState}`)
          if (ended(status)) return
        }
      }),
    )
    t.notOk(
      [...seen].some((s) => s.startsWith('failed')),
      [...seen].join(', '),
    )
    t.ok(seen.has('succeeded/success'))
  })

  await t.test('a cancel after a clean exit: still succeeded', async (t) => {
    const { backend } = await fresh()
    const name = uniqueId('late-cancel')
    await backend.submit(batch('exit:0', name))
    t.equal((await until(backend, refOf(name), ended))?.phase, 'succeeded')
    await backend.cancel(refOf(name))
    t.same(await statusOf(backend, refOf(name)), { phase: 'succeeded', rawState: 'success' })
  })

  await t.test('a cancel after a failure: still failed, with its exit code', async (t) => {
    const { backend } = await fresh()
    const name = uniqueId('failed-cancel')
    await backend.submit(batch('exit:3', name))
    t.same(await until(backend, refOf(name), ended), { phase: 'failed', rawState: 'exit 3' })
    await sleep(20) // a later clock tick than the exit code
    await backend.cancel(refOf(name))
    t.same(await statusOf(backend, refOf(name)), { phase: 'failed', rawState: 'exit 3' })
  })

  await t.test('a cancel of a running batch: killed, whatever exit code it wrote', async (t) => {
    const { backend, workdir } = await fresh()
    const name = uniqueId('cancel')
    await backend.submit(batch('sleep:300', name))
    const dir = join(workdir, name)
    const pid = await pidOf(dir)
    groups.add(pid)
    await until(backend, refOf(name), (s) => s?.phase === 'running')
    // the application has started (a SIGTERM in the microseconds before it did is not seen
    // by it: the SIGKILL after the grace ends it then, with no exit code)
    while ((await backend.logs(refOf(name), 0, 1)).lines.length === 0) await sleep(20)
    await backend.cancel(refOf(name))
    await backend.cancel(refOf(name)) // again, as the tracker does: the first one's time stays
    t.same(await until(backend, refOf(name), ended), { phase: 'killed', rawState: 'killed' })
    t.ok(await untilGone(pid))
    // SIGTERM, recorded — unless (a loaded machine) the grace ran out first and the
    // SIGKILL ended the wrapper before it wrote a code: killed either way
    const exit = await readFile(join(dir, 'exit'), 'utf8').then(
      (text) => text.trim(),
      () => 'none',
    )
    t.ok(['143', 'none'].includes(exit), `exit code ${exit}`)
  })
})
