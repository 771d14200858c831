/**
 * Warm engines without a service: how an engine job's batch name gives its job and attempt,
 * the URL an engine's driver calls, what the API shows of an engine record (never its token
 * or its claim), and the tracker's decisions on an engine job (src/domain/reconcile.ts).
 */
import t from 'tap'
import type { Job } from '../../src/domain/job-schema.js'
import { isEngineRef } from '../../src/domain/ports/engine-pool.js'
import { decide } from '../../src/domain/reconcile.js'
import { attemptOf } from '../../src/engines/engine-backend.js'
import {
  EngineStore,
  hashToken,
  publicEngine,
  type EngineRecord,
} from '../../src/engines/engine-store.js'
import { engineGatewayUrl } from '../../src/plugins/engines.js'

const T0 = Date.parse('2026-01-01T00:00:00.000Z')

t.test("an engine job's batch name: its job id and attempt", async (t) => {
  t.same(attemptOf('0a1b-2c'), { jobId: '0a1b-2c', attempt: 1 })
  t.same(attemptOf('0a1b-2c.3'), { jobId: '0a1b-2c', attempt: 3 })
  t.ok(isEngineRef({ batchId: 'engine' }))
  t.notOk(isEngineRef({ batchId: '7' }))
  t.notOk(isEngineRef(undefined))
})

t.test('the URL an engine calls', async (t) => {
  t.equal(engineGatewayUrl('', '127.0.0.1', 8080), 'http://127.0.0.1:8080')
  t.equal(engineGatewayUrl('', '0.0.0.0', 8080), 'http://127.0.0.1:8080', 'any address: loopback')
  t.equal(engineGatewayUrl('', '::1', 9000), 'http://[::1]:9000')
  t.equal(engineGatewayUrl('https://gw.example.com/', '0.0.0.0', 8080), 'https://gw.example.com')
})

const engine = (over: Partial<EngineRecord> = {}): EngineRecord => ({
  id: 'eng-1',
  tenant: 'acme',
  backend: 'livy',
  state: 'ready',
  clusterUser: 'acme',
  startedBy: 'job',
  createdAt: new Date(T0).toISOString(),
  jobsServed: 2,
  job: '',
  idleSince: T0,
  idleTimeoutSeconds: 600,
  misses: 0,
  tokenHash: hashToken('a-token-of-the-engine-000000'),
  ref: { batchId: '4', batchName: 'sparkgate-engine-1' },
  memoryUsed: 100,
  memoryMax: 1000,
  ...over,
})

t.test('what the API shows of an engine', async (t) => {
  const shown = publicEngine(engine(), T0 + 42_500)
  t.equal(shown.idleSeconds, 42)
  t.same(shown.memory, { usedBytes: 100, maxBytes: 1000 })
  t.notOk('tokenHash' in shown, 'never its token hash')
  t.notOk('ref' in shown)
  const busy = publicEngine(engine({ state: 'busy', job: 'job-9|2' }), T0 + 5000)
  t.equal(busy.currentJob, 'job-9')
  t.equal(busy.idleSeconds, 0, 'busy: not idle')
})

t.test('a token opens its engine while it lives, and no other', async (t) => {
  const token = 'a-token-of-the-engine-000000'
  t.ok(EngineStore.tokenMatches(engine(), token))
  t.notOk(EngineStore.tokenMatches(engine(), `${token}x`))
  t.notOk(EngineStore.tokenMatches(engine({ state: 'stopped' }), token), 'an ended engine: none')
  t.notOk(EngineStore.tokenMatches(engine({ tokenHash: undefined }), token))
})

t.test("the tracker's decisions on an engine job", async (t) => {
  const job: Job = {
    id: 'j1',
    tenant: 'acme',
    name: 'j1',
    state: 'running',
    backend: 'livy',
    backendState: 'engine: running',
    attempts: 1,
    maxAttempts: 1,
    priority: 5,
    createdAt: new Date(T0).toISOString(),
    updatedAt: new Date(T0).toISOString(),
    backendRef: { batchId: 'engine', batchName: 'j1' },
    spec: { training: {} },
  }
  const view = { misses: 0, now: T0, backend: 'livy' }
  const lost = decide(job, {
    ...view,
    status: { phase: 'failed', rawState: 'engine lost', engineLost: 'engine eng-1 ended' },
  })
  t.match(lost, {
    do: 'fail',
    log: 'none',
    error: { code: 'ENGINE_LOST', message: 'engine eng-1 ended' },
  })
  const cancelled = decide(
    { ...job, cancelRequested: true },
    { ...view, status: { phase: 'failed', rawState: 'engine lost', engineLost: 'gone' } },
  )
  t.equal(cancelled.do, 'cancelled', 'a cancelled job whose engine died: cancelled')
  const claimed = decide(
    { ...job, state: 'submitted', backendState: 'engine: waiting' },
    {
      ...view,
      status: { phase: 'running', rawState: 'engine: running', engine: 'eng-1', appId: 'app-1' },
    },
  )
  t.match(claimed, {
    do: 'running',
    set: { backendRef: { batchId: 'engine', batchName: 'j1', engine: 'eng-1', appId: 'app-1' } },
  })
})
