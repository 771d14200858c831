/** The transition table and the store's atomic transitions (real Redis). */
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { Redis } from 'ioredis'
import {
  canTransition,
  IllegalTransitionError,
  isTerminal,
  JOB_STATES,
  StaleTransitionError,
  TRANSITIONS,
} from '../../src/domain/job-state.js'
import { JobStore } from '../../src/domain/job-store.js'
import { testConfig } from '../helpers/stack.js'

t.test('the table: terminal states lead nowhere but failed → queued (a retry)', async (t) => {
  t.same(JOB_STATES.filter(isTerminal), ['succeeded', 'failed', 'cancelled'])
  t.same(TRANSITIONS.succeeded, [])
  t.same(TRANSITIONS.cancelled, [])
  t.same(TRANSITIONS.failed, ['queued'])
  for (const s of JOB_STATES)
    if (!isTerminal(s)) t.ok(canTransition(s, 'cancelled'), `${s} can be cancelled`)
  t.notOk(canTransition('queued', 'running'))
  t.notOk(canTransition('running', 'queued'))
})

t.test('transitions are atomic, checked and recorded', async (t) => {
  const config = testConfig()
  const redis = new Redis(config.SPARKGATE_REDIS_URL)
  t.teardown(() => redis.disconnect())
  const store = new JobStore(redis, config.SPARKGATE_REDIS_PREFIX)
  const created = await store.create(
    randomUUID(),
    { batch: { file: 'hdfs://h/x.py', args: [] } },
    { backend: 'livy', tenant: 'acme', maxActive: 10 },
  )
  if (!('job' in created)) throw new Error('over quota')
  const { job } = created
  t.same((job.spec.batch as { args?: string[] }).args, [], 'empty arrays survive the round trip')

  await t.rejects(store.transition(job, ['queued'], 'running'), IllegalTransitionError)
  await store.transition(job, ['queued'], 'staging')
  t.same(await store.liveIds('livy'), [job.id], 'staging holds a live slot')
  await t.rejects(
    store.transition(job, ['queued'], 'staging'),
    StaleTransitionError,
    'a lost race is stale',
  )

  // 20 concurrent attempts at the same transition: exactly one wins
  const results = await Promise.allSettled(
    Array.from({ length: 20 }, () => store.transition(job, ['staging'], 'submitting')),
  )
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1)

  await store.transition(job, ['submitting'], 'submitted', {
    set: { backendRef: { batchId: '7', batchName: job.id } },
  })
  await store.transition(job, ['submitted'], 'running')
  await store.transition(job, ['running'], 'queued', {
    via: 'failed',
    reason: 'attempt 1 failed',
  })
  const after = (await store.get(job.id))!
  t.equal(after.state, 'queued')
  t.same(await store.liveIds('livy'), [], 'back in the queue: the slot is free')
  const events = await store.events(job.id)
  t.same(
    events.map((e) => `${e.from}>${e.to}`),
    [
      'null>queued',
      'queued>staging',
      'staging>submitting',
      'submitting>submitted',
      'submitted>running',
      'running>failed',
      'failed>queued',
    ],
  )
  t.equal(events[5]!.reason, 'attempt 1 failed')
  t.ok(after.submittedAt && after.startedAt, 'timestamps are kept')
})

t.test('a live-slot reservation never exceeds the cap under concurrency', async (t) => {
  const config = testConfig()
  const redis = new Redis(config.SPARKGATE_REDIS_URL)
  t.teardown(() => redis.disconnect())
  const store = new JobStore(redis, config.SPARKGATE_REDIS_PREFIX)
  const got = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      store.reserveSlot({ id: `job-${i}`, backend: 'b', tenant: `t${i % 2}` }, 3, 100),
    ),
  )
  t.equal(got.filter((g) => g === 'ok').length, 3)
  t.equal((await store.liveIds('b')).length, 3)
})

t.test('a tenant at its own cap gets no slot; other tenants still do', async (t) => {
  const config = testConfig()
  const redis = new Redis(config.SPARKGATE_REDIS_URL)
  t.teardown(() => redis.disconnect())
  const store = new JobStore(redis, config.SPARKGATE_REDIS_PREFIX)
  const a = (i: number) => ({ id: `a-${i}`, backend: 'b', tenant: 'a' })
  t.equal(await store.reserveSlot(a(1), 10, 2), 'ok')
  t.equal(await store.reserveSlot(a(2), 10, 2), 'ok')
  t.equal(await store.reserveSlot(a(3), 10, 2), 'tenant', 'tenant a is at its cap of 2')
  t.equal(await store.reserveSlot(a(1), 10, 2), 'ok', 'a job holding a slot keeps it')
  t.equal(await store.reserveSlot({ id: 'b-1', backend: 'b', tenant: 'b' }, 10, 2), 'ok')
  t.equal(await store.reserveSlot({ id: 'b-2', backend: 'b', tenant: 'b' }, 3, 2), 'backend')
  await store.releaseSlot(a(2))
  t.equal(await store.reserveSlot(a(3), 10, 2), 'ok', 'a released slot is free again')
  t.same(await store.tenantCounts('a'), { active: 0, live: 2 })
})

t.test('a transition naming an attempt moves only that attempt (a slow tick)', async (t) => {
  const config = testConfig()
  const redis = new Redis(config.SPARKGATE_REDIS_URL)
  t.teardown(() => redis.disconnect())
  const store = new JobStore(redis, config.SPARKGATE_REDIS_PREFIX)
  const created = await store.create(
    randomUUID(),
    { batch: { file: 'hdfs://h/x.py' }, maxAttempts: 2 },
    { backend: 'livy', tenant: 'acme', maxActive: 10 },
  )
  if (!('job' in created)) throw new Error('over quota')
  const { job } = created
  const step = (
    from: 'queued' | 'staging' | 'submitting',
    to: 'staging' | 'submitting' | 'submitted',
    set = {},
  ) => store.transition(job, [from], to, { reason: 'test', set })
  // attempt 1 runs and fails; a tick re-queues it; attempt 2 is submitted
  await step('queued', 'staging')
  await step('staging', 'submitting', { attempts: 1 })
  await step('submitting', 'submitted')
  const tick1 = (await store.get(job.id))!
  await store.transition(tick1, ['submitted', 'running'], 'queued', {
    attempt: 1,
    via: 'failed',
    reason: 'attempt 1 failed',
  })
  t.ok(await store.inOutbox(job.id), 're-queued: in the enqueue outbox')
  await step('queued', 'staging')
  await step('staging', 'submitting', { attempts: 2 })
  await step('submitting', 'submitted')
  t.notOk(await store.inOutbox(job.id), 'out of it once picked')

  // a slow tick that read attempt 1 now acts: it changes nothing
  await t.rejects(
    store.transition(tick1, ['submitted', 'running'], 'queued', {
      attempt: 1,
      via: 'failed',
      reason: 'late',
    }),
    StaleTransitionError,
  )
  const now = (await store.get(job.id))!
  t.equal(now.state, 'submitted')
  t.equal(now.attempts, 2)
  await store.transition(now, ['submitted'], 'running', { attempt: 2, reason: 'the right attempt' })
  t.equal((await store.get(job.id))!.state, 'running')
})
