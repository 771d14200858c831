/**
 * The job lifecycle table (src/domain/job-state.ts) on its own. The store's atomic
 * transitions against Redis stay in test/jobs/job-state.test.ts.
 */
import t from 'tap'
import { queueRank } from '../../src/domain/job-service.js'
import {
  canTransition,
  IllegalTransitionError,
  isTerminal,
  JOB_STATES,
  LIVE_STATES,
  StaleTransitionError,
  TERMINAL_STATES,
  TRACKED_STATES,
  TRANSITIONS,
  type JobState,
} from '../../src/domain/job-state.js'

t.test('the table has a row for every state and names only states', async (t) => {
  t.strictSame(Object.keys(TRANSITIONS).sort(), [...JOB_STATES].sort())
  for (const [from, targets] of Object.entries(TRANSITIONS)) {
    for (const to of targets) t.ok(JOB_STATES.includes(to), `${from} → ${to}: a known state`)
    t.equal(new Set(targets).size, targets.length, `${from}: no target twice`)
    t.notOk(targets.includes(from as JobState), `${from} does not lead to itself`)
  }
})

t.test('the exact table', async (t) => {
  // spelled out: a change to the lifecycle must be a deliberate change here too
  t.strictSame(TRANSITIONS, {
    queued: ['staging', 'cancelled', 'failed'],
    staging: ['submitting', 'queued', 'failed', 'cancelled'],
    submitting: ['submitted', 'queued', 'failed', 'cancelled'],
    submitted: ['running', 'succeeded', 'failed', 'cancelled'],
    running: ['succeeded', 'failed', 'cancelled'],
    succeeded: [],
    failed: ['queued'],
    cancelled: [],
  })
})

t.test('terminal states lead nowhere, except failed → queued (a retry)', async (t) => {
  t.strictSame(TERMINAL_STATES, ['succeeded', 'failed', 'cancelled'])
  t.strictSame(JOB_STATES.filter(isTerminal), ['succeeded', 'failed', 'cancelled'])
  t.strictSame(TRANSITIONS.succeeded, [])
  t.strictSame(TRANSITIONS.cancelled, [])
  t.strictSame(TRANSITIONS.failed, ['queued'])
  for (const s of ['queued', 'staging', 'submitting', 'submitted', 'running'] as const)
    t.equal(isTerminal(s), false, `${s} is not terminal`)
})

t.test('every non-terminal state can be cancelled and can fail', async (t) => {
  for (const s of JOB_STATES.filter((s) => !isTerminal(s))) {
    t.ok(canTransition(s, 'cancelled'), `${s} → cancelled`)
    t.ok(canTransition(s, 'failed'), `${s} → failed`)
  }
  for (const s of TERMINAL_STATES) t.notOk(canTransition(s, 'cancelled'), `${s} ↛ cancelled`)
})

t.test('canTransition: examples', async (t) => {
  const legal: [JobState, JobState][] = [
    ['queued', 'staging'],
    ['staging', 'submitting'],
    ['staging', 'queued'],
    ['submitting', 'submitted'],
    ['submitting', 'queued'],
    ['submitted', 'running'],
    ['submitted', 'succeeded'],
    ['running', 'succeeded'],
    ['failed', 'queued'],
  ]
  const illegal: [JobState, JobState][] = [
    ['queued', 'running'],
    ['queued', 'submitted'],
    ['queued', 'succeeded'],
    ['staging', 'running'],
    ['submitted', 'queued'],
    ['running', 'queued'],
    ['running', 'submitted'],
    ['succeeded', 'queued'],
    ['succeeded', 'failed'],
    ['cancelled', 'queued'],
    ['failed', 'running'],
    ['queued', 'queued'],
  ]
  for (const [from, to] of legal) t.equal(canTransition(from, to), true, `${from} → ${to}`)
  for (const [from, to] of illegal) t.equal(canTransition(from, to), false, `${from} ↛ ${to}`)
})

t.test('every state is reachable from queued, and every job can end', async (t) => {
  const reached = new Set<JobState>(['queued'])
  for (let grew = true; grew;) {
    grew = false
    for (const from of reached)
      for (const to of TRANSITIONS[from])
        if (!reached.has(to)) {
          reached.add(to)
          grew = true
        }
  }
  t.strictSame([...reached].sort(), [...JOB_STATES].sort())
  for (const s of JOB_STATES)
    t.ok(isTerminal(s) || TRANSITIONS[s].some(isTerminal), `${s} is one step from an end`)
})

t.test('live and tracked states', async (t) => {
  t.strictSame(LIVE_STATES, ['staging', 'submitting', 'submitted', 'running'])
  t.strictSame(TRACKED_STATES, ['submitted', 'running'])
  for (const s of LIVE_STATES) t.notOk(isTerminal(s), `live ${s} is not terminal`)
  for (const s of TRACKED_STATES) t.ok(LIVE_STATES.includes(s), `tracked ${s} is live`)
  t.notOk(LIVE_STATES.includes('queued'), 'a queued job holds no slot: it waits in the queue')
})

t.test('the transition errors say what happened', async (t) => {
  const illegal = new IllegalTransitionError('j1', 'queued', 'running')
  t.equal(illegal.name, 'IllegalTransitionError')
  t.equal(illegal.message, 'job j1: illegal transition queued → running')
  t.strictSame([illegal.jobId, illegal.from, illegal.to], ['j1', 'queued', 'running'])
  const stale = new StaleTransitionError('j2', ['queued', 'staging'], 'running')
  t.equal(stale.name, 'StaleTransitionError')
  t.equal(stale.message, 'job j2: expected queued|staging, found running')
  t.equal(
    new StaleTransitionError('j3', ['queued'], undefined).message,
    'job j3: expected queued, found nothing',
    'a job that is gone',
  )
})

t.test('queue rank: priority first, then fair between tenants, in order within one', async (t) => {
  // tenant A has 1,000 jobs waiting; tenant B queues its first
  const aLast = queueRank(5, 999)
  const bFirst = queueRank(5, 0)
  t.ok(bFirst < aLast, "B's first job goes before A's backlog")
  t.ok(queueRank(5, 3) < queueRank(5, 4), "each tenant's own jobs keep their order")
  t.ok(queueRank(1, 100_000) < queueRank(2, 0), 'priority holds strictly')
  t.ok(queueRank(10, 10_000_000) <= 2_097_152, "within BullMQ's priority range")
  t.ok(queueRank(1, 0) >= 1)
})
