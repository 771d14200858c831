/**
 * `npm run bench:events` — events out of the gateway, measured; never run as a test. Needs
 * the local stack (`npm run stack:up`): Redis and Kafka.
 *
 * 1. Throughput: the bare stream append (XADD of a real transition's CloudEvent JSON,
 *    with MINID trimming as the Lua script does it, one at a time from each of C
 *    concurrent callers on one connection) as the baseline; JobStore.transition (the
 *    Lua script that moves the job and appends its event) with the same callers; then
 *    end to end: log → relay → webhook fan-out → BullMQ → worker → a node:http receiver
 *    on loopback answering 204 (against the deliverer POSTing straight to it, 4 at a
 *    time, the worker's concurrency), and log → relay → Kafka → a consumer (against the
 *    same producer options sending straight to the topic).
 * 2. Delivery latency at a low rate (one event every few ms, timestamp taken just before
 *    the create / transition call, stop watch at the receiver / consumer in this
 *    process), against the same sink reached directly; for webhooks also a job's events
 *    back to back (as the submit worker makes them), which meets the per-job ordering.
 * 3. Idle cost of N open SSE streams (`GET /v1/jobs/{id}/events`, one job each) on a
 *    gateway (api role) in a child process that reports its own CPU time over IPC, and
 *    the Redis commands/s of that child's own connections (MONITOR, by source address
 *    from `ss -tnp`: the stack's Redis may serve others too), against the old design —
 *    per stream, every 500 ms, LRANGE of the job's history + HGETALL of the job
 *    (`git show 2538e36:src/routes/jobs/event-stream.ts`) — N such loops in a child.
 *
 * Output: one table per part with ratios against the baseline measured in the same run.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { cpus } from 'node:os'
import { fileURLToPath } from 'node:url'
import {
  Admin,
  Consumer,
  MessagesStreamModes,
  Producer,
  stringDeserializers,
  type Message,
} from '@platformatic/kafka'
import { Redis } from 'ioredis'
import { buildApp, type App } from '../src/app.js'
import { configWith } from '../src/config.js'
import { JobStore, type JobKey } from '../src/domain/job-store.js'
import type { JobState } from '../src/domain/job-state.js'
import { toKafkaMessage } from '../src/events/kafka-message.js'
import { kafkaProducerOptions } from '../src/events/kafka-options.js'
import { createDeliverer } from '../src/webhooks/webhook-http.js'
import { RedisKeys } from '../src/redis/keys.js'
import { streamMinId } from '../src/redis/paging.js'
import type { CloudEvent, JobEventData } from '../src/schemas/events.js'
import { removePrefix } from './cleanup.js'
import { table } from './table.js'

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 3000)
const CALLERS = Number(process.env['BENCH_CALLERS'] ?? 16)
const LATENCY_EVENTS = Number(process.env['BENCH_LATENCY_EVENTS'] ?? 200)
const LATENCY_GAP_MS = Number(process.env['BENCH_LATENCY_GAP_MS'] ?? 15)
const STREAMS = Number(process.env['BENCH_STREAMS'] ?? 1000)
const IDLE_S = Number(process.env['BENCH_IDLE_S'] ?? 10)
const BURST_JOBS = Number(process.env['BENCH_BURST_JOBS'] ?? 20)

const ADMIN_KEY = 'sgk_bench-events-admin-key-0123456789abcdef'
const base = configWith({})
const BROKERS = base.SPARKGATE_KAFKA_BROKERS
const RETENTION_MS = 7 * 86_400_000

/** A job's walk: each step one transition, one event (the create is the first). */
const WALK: [JobState, JobState][] = [
  ['queued', 'staging'],
  ['staging', 'submitting'],
  ['submitting', 'submitted'],
  ['submitted', 'running'],
  ['running', 'succeeded'],
]
const PER_JOB = WALK.length + 1

const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Runs `fn(i)` for i in [0, n), `callers` at a time, each caller one call after another. */
async function concurrently(n: number, callers: number, fn: (i: number) => Promise<unknown>) {
  let next = 0
  await Promise.all(
    Array.from({ length: callers }, async () => {
      while (next < n) await fn(next++)
    }),
  )
}

async function until(what: string, fn: () => boolean, ms = 120_000) {
  const deadline = Date.now() + ms
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(2)
  }
}

async function bareJob(store: JobStore, tenant: string): Promise<JobKey> {
  const created = await store.create(
    randomUUID(),
    { name: 'ev', batch: { file: 'hdfs://127.0.0.1:8020/sparkgate-bench/app.py' } },
    { tenant, maxActive: Number.MAX_SAFE_INTEGER, backend: 'livy' },
  )
  if (!('job' in created)) throw new Error('over quota')
  return created.job
}

/** `jobs` jobs created and walked to `succeeded`, CALLERS jobs at a time: PER_JOB events each. */
async function walkJobs(store: JobStore, tenant: string, jobs: number) {
  await concurrently(jobs, CALLERS, async () => {
    const job = await bareJob(store, tenant)
    for (const [from, to] of WALK) await store.transition(job, [from], to)
  })
}

/**
 * Events at a low rate, one every LATENCY_GAP_MS (from a fixed schedule): job creations
 * and transitions; `sent` gets "<job id>:<sequence>" → the time just before the call.
 */
async function paced(store: JobStore, tenant: string, sent: Map<string, number>) {
  const start = performance.now()
  let i = 0
  let job: JobKey | undefined
  let step = 0
  while (i < LATENCY_EVENTS) {
    const wait = start + i * LATENCY_GAP_MS - performance.now()
    if (wait > 0) await sleep(wait)
    const t0 = performance.now()
    if (!job || step === WALK.length) {
      const id = randomUUID()
      sent.set(`${id}:0`, t0)
      const created = await store.create(
        id,
        { name: 'lat', batch: { file: 'hdfs://127.0.0.1:8020/sparkgate-bench/app.py' } },
        { tenant, maxActive: Number.MAX_SAFE_INTEGER, backend: 'livy' },
      )
      if (!('job' in created)) throw new Error('over quota')
      job = created.job
      step = 0
    } else {
      sent.set(`${job.id}:${step + 1}`, t0)
      const [from, to] = WALK[step++]!
      await store.transition(job, [from], to)
    }
    i++
  }
}

/** What arrived at a receiver or consumer: arrival times by "<subject>:<sequence>". */
class Arrivals {
  readonly at = new Map<string, number>()
  duplicates = 0
  outOfOrder = 0
  private readonly last = new Map<string, number>()

  add(subject: string, sequence: number) {
    const key = `${subject}:${sequence}`
    if (this.at.has(key)) {
      this.duplicates++
      return
    }
    this.at.set(key, performance.now())
    if (sequence < (this.last.get(subject) ?? -1)) this.outOfOrder++
    this.last.set(subject, sequence)
  }

  reset() {
    this.at.clear()
    this.last.clear()
    this.duplicates = 0
    this.outOfOrder = 0
  }

  get size() {
    return this.at.size
  }

  latencies(sent: Map<string, number>): number[] {
    const out: number[] = []
    for (const [key, t0] of sent) {
      const t1 = this.at.get(key)
      if (t1 === undefined) throw new Error(`${key} never arrived`)
      out.push(t1 - t0)
    }
    return out.sort((a, b) => a - b)
  }
}

/** A webhook receiver on loopback answering 204. */
async function receiver() {
  const arrivals = new Arrivals()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const e = JSON.parse(Buffer.concat(chunks).toString('utf8')) as CloudEvent<JobEventData>
      arrivals.add(e.subject, e.data.sequence)
      res.writeHead(204).end()
    })
  })
  server.keepAliveTimeout = 60_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/hook`,
    arrivals,
    close: () => {
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    },
  }
}

async function benchApp(prefix: string, extra: Record<string, string | number>) {
  const app = await buildApp(
    configWith({
      SPARKGATE_ROLES: 'api,worker',
      SPARKGATE_LOG_LEVEL: 'warn',
      SPARKGATE_REDIS_PREFIX: prefix,
      SPARKGATE_ADMIN_KEY: ADMIN_KEY,
      SPARKGATE_KAFKA_BROKERS: 'none',
      ...extra,
    }),
  )
  await app.ready()
  const tenant = await app.tenants.create({
    name: `bench-${randomUUID().slice(0, 8)}`,
    policy: { uriPrefixes: ['hdfs://127.0.0.1:8020/sparkgate-bench/'] },
    quotas: { maxQueuedJobs: 1_000_000, maxLiveJobs: 1_000_000 },
  })
  return { app, tenant: tenant.id }
}

interface Throughput {
  eventsPerS: number
  seconds: number
  note?: string
}

interface SinkResult {
  direct: Throughput
  relayed: Throughput
  directLatency: number[]
  relayedLatency: number[]
  burstLatency?: number[]
  burstNote?: string
}

const jobsFor = (events: number) => Math.ceil(events / PER_JOB)

/** 1 + 2 for webhooks: the deliverer alone, then the whole path. */
async function webhooks(redis: Redis): Promise<SinkResult> {
  const hook = await receiver()
  const jobs = jobsFor(EVENTS)
  const n = jobs * PER_JOB

  // the baseline: the same deliverer, 4 at a time (the worker's concurrency), bodies of the size
  const deliverer = createDeliverer({ timeoutMs: 15_000, allowPrivate: true })
  const sample = JSON.stringify({
    specversion: '1.0',
    id: randomUUID(),
    source: '/sparkgate/bench-00000000',
    type: 'dev.sparkgate.job.submitting',
    subject: randomUUID(),
    time: new Date().toISOString(),
    datacontenttype: 'application/json',
    tenant: 'bench-00000000',
    data: {
      jobId: randomUUID(),
      name: 'ev',
      state: 'submitting',
      previousState: 'staging',
      reason: null,
      attempt: 0,
      backend: 'livy',
      backendRef: null,
      error: null,
      sequence: 0,
    },
  })
  const headers = {
    'content-type': 'application/cloudevents+json',
    'webhook-id': 'msg_x',
    'webhook-timestamp': '0',
    'webhook-signature': `v1,${'A'.repeat(43)}=`,
  }
  const direct = async (count: number, gapMs?: number) => {
    const sent = new Map<string, number>()
    const start = performance.now()
    await concurrently(count, gapMs ? 1 : 4, async (i) => {
      if (gapMs) {
        const wait = start + i * gapMs - performance.now()
        if (wait > 0) await sleep(wait)
      }
      const subject = `direct-${i}`
      const body = sample.replace(/"subject":"[^"]*"/, `"subject":"${subject}"`)
      sent.set(`${subject}:0`, performance.now())
      const outcome = await deliverer.deliver(hook.url, headers, body)
      if (!outcome.ok) throw new Error(`direct delivery: ${outcome.error}`)
    })
    return { sent, seconds: (performance.now() - start) / 1000 }
  }
  await direct(200) // warm-up
  hook.arrivals.reset()
  const d = await direct(n)
  const directTp = { eventsPerS: n / d.seconds, seconds: d.seconds }
  hook.arrivals.reset()
  const dl = await direct(LATENCY_EVENTS, LATENCY_GAP_MS)
  const directLatency = hook.arrivals.latencies(dl.sent)
  deliverer.close()

  const prefix = `bench-${randomUUID().slice(0, 8)}`
  const { app, tenant } = await benchApp(prefix, {
    SPARKGATE_WEBHOOK_ALLOW_PRIVATE: 'true',
    SPARKGATE_WEBHOOK_MAX_ATTEMPTS: 3,
  })
  try {
    const webhook = await app.webhooks.create(tenant, hook.url, ['dev.sparkgate.job.*'])
    // deliveries that started more than once: put off behind an older one of the same job
    const putOff = async () => {
      const done = await app.webhookDeliveries.queue(webhook.id).getJobs(['completed'], 0, -1)
      return done.filter((j) => j.attemptsStarted > 1).length
    }
    // warm-up: the workers pick the new webhook up within their refresh period (2 s)
    hook.arrivals.reset()
    await walkJobs(app.jobStore, tenant, 2)
    await until('the warm-up deliveries', () => hook.arrivals.size >= 2 * PER_JOB)

    hook.arrivals.reset()
    const start = performance.now()
    await walkJobs(app.jobStore, tenant, jobs)
    const written = (performance.now() - start) / 1000
    await until(`${n} deliveries`, () => hook.arrivals.size >= n)
    const seconds = (performance.now() - start) / 1000
    const putOff0 = await putOff()
    const relayed: Throughput = {
      eventsPerS: n / seconds,
      seconds,
      note: `all written after ${fmt(written, 1)} s; ${hook.arrivals.outOfOrder} out of order within a job, ${hook.arrivals.duplicates} duplicates; ${fmt(putOff0)} deliveries parked behind an older one of their job (woken when it ends)`,
    }
    await sleep(500)
    hook.arrivals.reset()
    const sent = new Map<string, number>()
    await paced(app.jobStore, tenant, sent)
    await until('the paced deliveries', () => hook.arrivals.size >= sent.size)
    const relayedLatency = hook.arrivals.latencies(sent)
    // a job's events back to back, as the worker makes them (staging → submitting →
    // submitted within a few ms), BURST_JOBS jobs 100 ms apart
    const putOff1 = await putOff()
    hook.arrivals.reset()
    const burst = new Map<string, number>()
    for (let j = 0; j < BURST_JOBS; j++) {
      const id = randomUUID()
      burst.set(`${id}:0`, performance.now())
      const created = await app.jobStore.create(
        id,
        { name: 'burst', batch: { file: 'hdfs://127.0.0.1:8020/sparkgate-bench/app.py' } },
        { tenant, maxActive: Number.MAX_SAFE_INTEGER, backend: 'livy' },
      )
      if (!('job' in created)) throw new Error('over quota')
      for (const [k, [from, to]] of WALK.entries()) {
        burst.set(`${id}:${k + 1}`, performance.now())
        await app.jobStore.transition(created.job, [from], to)
      }
      await sleep(100)
    }
    await until('the burst deliveries', () => hook.arrivals.size >= burst.size)
    const burstLatency = hook.arrivals.latencies(burst)
    const burstPutOff = (await putOff()) - putOff1
    return {
      direct: directTp,
      relayed,
      directLatency,
      relayedLatency,
      burstLatency,
      burstNote: `${fmt(burstPutOff)} of ${fmt(burst.size)} put off behind an older event of their job`,
    }
  } finally {
    await app.close()
    await hook.close()
    await removePrefix(redis, prefix)
  }
}

type Msg = Message<string, string, string, string>

/** 1 + 2 for Kafka: the producer alone, then the whole path; one consumer for both. */
async function kafka(redis: Redis): Promise<SinkResult> {
  const topic = `sparkgate-bench-events-${randomUUID().slice(0, 8)}`
  const admin = new Admin({ clientId: 'sparkgate-bench-admin', bootstrapBrokers: [BROKERS] })
  await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 })
  const arrivals = new Arrivals()
  const consumer = new Consumer({
    clientId: 'sparkgate-bench-consumer',
    groupId: `sparkgate-bench-${randomUUID().slice(0, 8)}`,
    bootstrapBrokers: [BROKERS],
    deserializers: stringDeserializers,
    maxWaitTime: 500,
    minBytes: 1,
  })
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
  })
  stream.on('data', (m: Msg) => {
    arrivals.add(m.key, (JSON.parse(m.value) as JobEventData).sequence)
  })
  stream.on('error', () => {})
  const producer = new Producer(
    kafkaProducerOptions({
      brokers: BROKERS,
      topic,
      clientId: 'sparkgate-bench-producer',
      log: { warn: () => {}, info: () => {} },
    }),
  )
  const jobs = jobsFor(EVENTS)
  const n = jobs * PER_JOB
  const prefix = `bench-${randomUUID().slice(0, 8)}`
  try {
    // the baseline: the relay's producer options, sends of up to 500 messages, straight to the topic
    const event = (subject: string): CloudEvent<JobEventData> => ({
      specversion: '1.0',
      id: randomUUID(),
      source: '/sparkgate/bench-00000000',
      type: 'dev.sparkgate.job.submitting',
      subject,
      time: new Date().toISOString(),
      datacontenttype: 'application/json',
      tenant: 'bench-00000000',
      data: {
        jobId: subject,
        name: 'ev',
        state: 'submitting',
        previousState: 'staging',
        reason: null,
        attempt: 0,
        backend: 'livy',
        backendRef: null,
        error: null,
        sequence: 0,
      },
    })
    const sendDirect = async (count: number, tag: string) => {
      for (let i = 0; i < count; i += 500)
        await producer.send({
          messages: Array.from({ length: Math.min(500, count - i) }, (_, k) =>
            toKafkaMessage(topic, event(`${tag}-${i + k}`)),
          ),
        })
    }
    await sendDirect(200, 'warm')
    await until('the warm-up messages', () => arrivals.size >= 200)
    arrivals.reset()
    let start = performance.now()
    await sendDirect(n, 'direct')
    await until(`${n} direct messages`, () => arrivals.size >= n)
    let seconds = (performance.now() - start) / 1000
    const direct = { eventsPerS: n / seconds, seconds }
    arrivals.reset()
    const sentDirect = new Map<string, number>()
    start = performance.now()
    for (let i = 0; i < LATENCY_EVENTS; i++) {
      const wait = start + i * LATENCY_GAP_MS - performance.now()
      if (wait > 0) await sleep(wait)
      sentDirect.set(`lat-${i}:0`, performance.now())
      await producer.send({ messages: [toKafkaMessage(topic, event(`lat-${i}`))] })
    }
    await until('the paced direct messages', () => arrivals.size >= LATENCY_EVENTS)
    const directLatency = arrivals.latencies(sentDirect)

    const { app, tenant } = await benchApp(prefix, {
      SPARKGATE_KAFKA_BROKERS: BROKERS,
      SPARKGATE_KAFKA_TOPIC: topic,
    })
    try {
      arrivals.reset()
      await walkJobs(app.jobStore, tenant, 2) // warm-up
      await until('the warm-up events', () => arrivals.size >= 2 * PER_JOB)
      arrivals.reset()
      const relay = app.eventRelays.get('kafka')!
      const relayed0 = relay.relayed
      start = performance.now()
      await walkJobs(app.jobStore, tenant, jobs)
      const written = (performance.now() - start) / 1000
      await until(`${n} relayed events`, () => arrivals.size >= n)
      seconds = (performance.now() - start) / 1000
      const relayed: Throughput = {
        eventsPerS: n / seconds,
        seconds,
        note: `all written after ${fmt(written, 1)} s; relay counter +${relay.relayed - relayed0}; ${arrivals.outOfOrder} out of order within a job, ${arrivals.duplicates} duplicates`,
      }
      await sleep(500)
      arrivals.reset()
      const sent = new Map<string, number>()
      await paced(app.jobStore, tenant, sent)
      await until('the paced events', () => arrivals.size >= sent.size)
      const relayedLatency = arrivals.latencies(sent)
      return { direct, relayed, directLatency, relayedLatency }
    } finally {
      await app.close()
    }
  } finally {
    await producer.close().catch(() => undefined)
    await new Promise<void>((resolve) => consumer.close(true, () => resolve()))
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
    await admin.close().catch(() => undefined)
    await removePrefix(redis, prefix)
  }
}

/** 1. The append itself: bare XADD against the transition script, CALLERS at a time. */
async function appendRates(redis: Redis) {
  const prefix = `bench-${randomUUID().slice(0, 8)}`
  const store = new JobStore(redis, prefix, 86_400, RETENTION_MS)
  const tenant = 'bench'
  const jobs = jobsFor(EVENTS) * 2
  const transitions = jobs * WALK.length
  try {
    const made: JobKey[] = []
    await concurrently(jobs + 200, CALLERS, async () => made.push(await bareJob(store, tenant)))
    // a real transition's CloudEvent, appended as it is
    const stream = new RedisKeys(prefix).of(tenant).events()
    const [[, fields]] = (await redis.xrevrange(stream, '+', '-', 'COUNT', 1)) as [
      [string, string[]],
    ]
    const ce = fields[1]!
    const target = `${prefix}:bench-xadd`
    const xadd = () => redis.xadd(target, 'MINID', streamMinId(RETENTION_MS), '*', 'ce', ce)
    // warm-up of both (not reported)
    await concurrently(2000, CALLERS, xadd)
    await concurrently(200, CALLERS, async (i) => {
      for (const [from, to] of WALK) await store.transition(made[jobs + i]!, [from], to)
    })

    let start = performance.now()
    await concurrently(transitions, CALLERS, xadd)
    const xaddS = (performance.now() - start) / 1000
    // each caller walks one job at a time: its transitions follow one another, as a job's do
    start = performance.now()
    await concurrently(jobs, CALLERS, async (i) => {
      for (const [from, to] of WALK) await store.transition(made[i]!, [from], to)
    })
    const transitionS = (performance.now() - start) / 1000
    return {
      bytes: Buffer.byteLength(ce),
      count: transitions,
      xadd: transitions / xaddS,
      transition: transitions / transitionS,
    }
  } finally {
    await removePrefix(redis, prefix)
  }
}

async function throughputAndLatency(redis: Redis) {
  const append = await appendRates(redis)
  const hooks = await webhooks(redis)
  const k = await kafka(redis)
  const n = jobsFor(EVENTS) * PER_JOB
  const vs = (x: number) => fmt(x / append.xadd, 3)
  table(
    `1. Event throughput (${CALLERS} concurrent callers; XADD and transitions: ${fmt(append.count)} each, ${fmt(append.bytes)}-byte CloudEvent; end to end: ${fmt(n)} events = ${fmt(jobsFor(EVENTS))} jobs × create + ${WALK.length} transitions)`,
    ['path', 'events/s', 'seconds', 'vs XADD'],
    [
      [
        'XADD … MINID … of the same CloudEvent (baseline)',
        fmt(append.xadd),
        fmt(append.count / append.xadd, 2),
        '1.000',
      ],
      [
        'JobStore.transition (Lua: job, indexes, history, XADD)',
        fmt(append.transition),
        fmt(append.count / append.transition, 2),
        vs(append.transition),
      ],
      [
        'webhook: deliverer → receiver alone, 4 at a time',
        fmt(hooks.direct.eventsPerS),
        fmt(hooks.direct.seconds, 2),
        vs(hooks.direct.eventsPerS),
      ],
      [
        'webhook: transition → relay → BullMQ → worker → receiver',
        fmt(hooks.relayed.eventsPerS),
        fmt(hooks.relayed.seconds, 2),
        vs(hooks.relayed.eventsPerS),
      ],
      [
        'Kafka: producer → topic → consumer alone (sends of ≤ 500)',
        fmt(k.direct.eventsPerS),
        fmt(k.direct.seconds, 2),
        vs(k.direct.eventsPerS),
      ],
      [
        'Kafka: transition → relay → topic → consumer',
        fmt(k.relayed.eventsPerS),
        fmt(k.relayed.seconds, 2),
        vs(k.relayed.eventsPerS),
      ],
    ],
  )
  console.log(`   webhook end to end: ${hooks.relayed.note}`)
  console.log(`   Kafka end to end: ${k.relayed.note}`)

  const row = (what: string, l: number[], baseline: number[]) => [
    what,
    fmt(pct(l, 50), 1),
    fmt(pct(l, 99), 1),
    fmt(l.at(-1)!, 1),
    fmt(pct(l, 50) / pct(baseline, 50), 1),
  ]
  table(
    `2. Delivery latency (${LATENCY_EVENTS} events, one every ${LATENCY_GAP_MS} ms; from just before the call to arrival in this process)`,
    ['path', 'p50 ms', 'p99 ms', 'max ms', 'p50 vs direct'],
    [
      row('webhook: deliverer → receiver (direct)', hooks.directLatency, hooks.directLatency),
      row(
        'webhook: transition → relay → BullMQ → worker → receiver',
        hooks.relayedLatency,
        hooks.directLatency,
      ),
      row(
        `webhook: the same, ${BURST_JOBS} jobs' ${PER_JOB} events back to back`,
        hooks.burstLatency!,
        hooks.directLatency,
      ),
      row('Kafka: producer.send → consumer (direct)', k.directLatency, k.directLatency),
      row('Kafka: transition → relay → topic → consumer', k.relayedLatency, k.directLatency),
    ],
  )
  console.log(`   webhook back to back: ${hooks.burstNote}`)
}

// ---------------------------------------------------------------- 3. idle SSE streams

interface Report {
  cpu: NodeJS.CpuUsage
  hub?: { streams: number; listeners: number; reads: number }
  open?: number
}

/** The child: a gateway (api role) or the old per-stream polling, reporting over IPC. */
async function child(mode: string, prefix: string) {
  const send = (m: unknown) => process.send!(m)
  const reports: (() => Report)[] = []
  let stop: () => Promise<void>
  if (mode === 'gateway') {
    const app: App = await buildApp(
      configWith({
        SPARKGATE_ROLES: 'api',
        SPARKGATE_LOG_LEVEL: 'warn',
        SPARKGATE_REDIS_PREFIX: prefix,
        SPARKGATE_ADMIN_KEY: ADMIN_KEY,
        SPARKGATE_KAFKA_BROKERS: 'none',
        SPARKGATE_MAX_EVENT_STREAMS: 2000,
        SPARKGATE_PORT: 0,
      }),
    )
    const url = await app.listen({ host: '127.0.0.1', port: 0 })
    app.server.maxConnections = 10_000
    reports.push(() => ({
      cpu: process.cpuUsage(),
      hub: app.eventHub.stats(),
      open: app.sseStreams.size,
    }))
    stop = () => app.close()
    send({ url })
  } else {
    // the old design, one loop per stream: the job's history (LRANGE), then its record
    // (HGETALL), every 500 ms, until the job is terminal
    const redis = new Redis(base.SPARKGATE_REDIS_URL)
    const store = new JobStore(redis, prefix)
    let stopped = false
    const loops: Promise<void>[] = []
    reports.push(() => ({ cpu: process.cpuUsage() }))
    stop = async () => {
      stopped = true
      await Promise.all(loops)
      redis.disconnect()
    }
    process.on('message', (m: { ids?: string[] }) => {
      for (const id of m.ids ?? [])
        loops.push(
          (async () => {
            let next = 0
            while (!stopped) {
              const events = await store.events(id)
              for (; next < events.length; next++) JSON.stringify(events[next])
              const job = await store.get(id)
              if (!job || ['succeeded', 'failed', 'cancelled'].includes(job.state)) break
              await sleep(500)
            }
          })(),
        )
      if (m.ids) send({ started: m.ids.length })
    })
    send({ ready: true })
  }
  process.on('message', (m: { report?: boolean; stop?: boolean }) => {
    if (m.report) send({ report: reports[0]!() })
    if (m.stop) void stop().then(() => process.exit(0))
  })
}

function spawnChild(mode: string, prefix: string): ChildProcess {
  return fork(fileURLToPath(import.meta.url), ['--child', mode, prefix], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

async function ask<T>(c: ChildProcess, message: object, key: string): Promise<T> {
  const got = new Promise<T>((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        c.off('message', on)
        resolve(m[key] as T)
      }
    }
    c.on('message', on)
  })
  if (Object.keys(message).length) c.send(message)
  return got
}

async function commandsProcessed(redis: Redis): Promise<number> {
  const info = await redis.info('stats')
  return Number(/total_commands_processed:(\d+)/.exec(info)![1])
}

/** The child's connections to Redis ("ip:port" as Redis sees them), from `ss -tnp`. */
function redisSockets(pid: number): Set<string> {
  const port = new URL(base.SPARKGATE_REDIS_URL).port || '6379'
  const out = execFileSync('ss', ['-tnpH', 'state', 'established', `( dport = :${port} )`], {
    encoding: 'utf8',
  })
  const mine = new Set<string>()
  for (const line of out.split('\n'))
    if (line.includes(`pid=${pid},`)) mine.add(line.trim().split(/\s+/)[2]!)
  return mine
}

/**
 * Counts the Redis commands sent by the child's own connections from now until done()
 * (MONITOR, by source address: the stack's Redis may serve others too).
 */
async function watchChild(redis: Redis, pid: number) {
  const monitor = await redis.monitor()
  const bySource = new Map<string, Map<string, number>>()
  let counting = false
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (!counting) return
    const name = String(args[0]).toLowerCase()
    const counts = bySource.get(source) ?? new Map<string, number>()
    counts.set(name, (counts.get(name) ?? 0) + 1)
    bySource.set(source, counts)
  })
  const before = redisSockets(pid)
  counting = true
  return {
    done() {
      counting = false
      monitor.disconnect()
      const own = new Map<string, number>()
      for (const s of new Set([...before, ...redisSockets(pid)]))
        for (const [k, v] of bySource.get(s) ?? []) own.set(k, (own.get(k) ?? 0) + v)
      return {
        total: [...own.values()].reduce((x, y) => x + y, 0),
        commands: [...own].sort((x, y) => y[1] - x[1]),
      }
    },
  }
}

/** CPU of the child and the Redis commands of its connections over IDLE_S; the server's too. */
async function window(redis: Redis, c: ChildProcess) {
  const watch = await watchChild(redis, c.pid!)
  const r0 = await ask<Report>(c, { report: true }, 'report')
  const n0 = await commandsProcessed(redis)
  const t0 = performance.now()
  await sleep(IDLE_S * 1000)
  const seen = watch.done()
  const seconds = (performance.now() - t0) / 1000
  const n1 = await commandsProcessed(redis)
  const r1 = await ask<Report>(c, { report: true }, 'report')
  const cpu = r1.cpu.user + r1.cpu.system - (r0.cpu.user + r0.cpu.system)
  return {
    cpuMsPerS: cpu / 1000 / seconds,
    commandsPerS: seen.total / seconds,
    // the whole server, the measurement's INFOs left out
    serverPerS: Math.max(0, n1 - n0 - 2) / seconds,
    reads: (r1.hub?.reads ?? 0) - (r0.hub?.reads ?? 0),
    open: r1.open,
    commands: seen.commands,
  }
}

async function idleStreams(redis: Redis) {
  const prefix = `bench-${randomUUID().slice(0, 8)}`
  const gateway = spawnChild('gateway', prefix)
  try {
    const url = await ask<string>(gateway, {}, 'url')
    const admin = { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }
    const name = `bench-${randomUUID().slice(0, 8)}`
    const made = await fetch(`${url}/v1/tenants`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({
        name,
        policy: { uriPrefixes: ['hdfs://127.0.0.1:8020/sparkgate-bench/'] },
        quotas: { maxQueuedJobs: 1_000_000, requestsPerMinute: 10_000_000, maxLiveJobs: 10_000 },
      }),
    })
    if (made.status !== 201) throw new Error(`POST /v1/tenants: ${await made.text()}`)
    const keyed = await fetch(`${url}/v1/tenants/${name}/keys`, {
      method: 'POST',
      headers: admin,
      body: JSON.stringify({ role: 'member' }),
    })
    if (keyed.status !== 201) throw new Error(`POST keys: ${await keyed.text()}`)
    const key = ((await keyed.json()) as { key: string }).key
    // one live job per stream, each with its history (queued → staging → submitting)
    const store = new JobStore(redis, prefix)
    const ids: string[] = []
    await concurrently(STREAMS, CALLERS, async () => {
      const job = await bareJob(store, name)
      await store.transition(job, ['queued'], 'staging')
      await store.transition(job, ['staging'], 'submitting')
      ids.push(job.id)
    })

    // a. the gateway up, no stream: the background of the Redis server and of the process
    const quiet = await window(redis, gateway)

    // b. STREAMS open streams, each past its history
    const agent = new http.Agent({ keepAlive: true, maxSockets: STREAMS + 100 })
    const requests: http.ClientRequest[] = []
    const u = new URL(url)
    const watchOpen = await watchChild(redis, gateway.pid!)
    const opening = performance.now()
    await concurrently(ids.length, 50, async (i) => {
      await new Promise<void>((resolve, reject) => {
        const req = http.get(
          {
            host: u.hostname,
            port: u.port,
            path: `/v1/jobs/${ids[i]}/events`,
            agent,
            headers: { accept: 'text/event-stream', authorization: `Bearer ${key}` },
          },
          (res) => {
            if (res.statusCode !== 200) return reject(new Error(`SSE: HTTP ${res.statusCode}`))
            let text = ''
            res.setEncoding('utf8')
            res.on('data', (chunk: string) => {
              text += chunk
              if (text.split('event: transition').length > 3) resolve()
            })
            res.on('error', () => {})
          },
        )
        req.on('error', reject)
        requests.push(req)
      })
    })
    const openS = (performance.now() - opening) / 1000
    const openCommands = watchOpen.done().commands
    await sleep(1000)
    const streams = await window(redis, gateway)
    for (const req of requests) req.destroy()
    agent.destroy()
    gateway.send({ stop: true })
    await once(gateway, 'exit')

    // c. the old design: STREAMS polling loops in a child, on the same jobs
    const poller = spawnChild('poll', prefix)
    await ask(poller, {}, 'ready')
    await ask(poller, { ids }, 'started')
    await sleep(1000)
    const polling = await window(redis, poller)
    poller.send({ stop: true })
    await once(poller, 'exit')

    table(
      `3. Idle cost of ${fmt(STREAMS)} open job event streams (${IDLE_S} s window; gateway / pollers in a child process reporting process.cpuUsage() over IPC; Redis commands of its connections, by MONITOR)`,
      ['design', 'CPU ms/s', 'Redis commands/s', 'CPU vs polling', 'Redis vs polling'],
      [
        [
          `old: ${fmt(STREAMS)} loops, LRANGE + HGETALL every 500 ms (baseline)`,
          fmt(polling.cpuMsPerS, 1),
          fmt(polling.commandsPerS, 1),
          '1.000',
          '1.000',
        ],
        [
          `now: ${fmt(STREAMS)} SSE streams on the hub's one blocking XREAD`,
          fmt(streams.cpuMsPerS, 1),
          fmt(streams.commandsPerS, 1),
          fmt(streams.cpuMsPerS / polling.cpuMsPerS, 3),
          fmt(streams.commandsPerS / polling.commandsPerS, 4),
        ],
        [
          'the same gateway, no stream open',
          fmt(quiet.cpuMsPerS, 1),
          fmt(quiet.commandsPerS, 1),
          fmt(quiet.cpuMsPerS / polling.cpuMsPerS, 3),
          fmt(quiet.commandsPerS / polling.commandsPerS, 4),
        ],
      ],
    )
    const list = (c: (readonly [string, number])[]) =>
      c
        .slice(0, 8)
        .map(([k, d]) => `${k} ${fmt(d)}`)
        .join(', ') || 'none'
    console.log(
      `   commands in the window — polling: ${list(polling.commands)}; streams: ${list(streams.commands)} (hub XREADs started: ${streams.reads}, streams open: ${streams.open}); no stream: ${list(quiet.commands)}`,
    )
    console.log(
      `   the whole Redis server meanwhile (other clients included): ${fmt(polling.serverPerS)}, ${fmt(streams.serverPerS)}, ${fmt(quiet.serverPerS)} commands/s`,
    )
    console.log(
      `   opening the ${fmt(STREAMS)} streams (50 at a time) took ${fmt(openS, 1)} s and ${list(openCommands)}`,
    )
  } finally {
    if (gateway.exitCode === null) gateway.kill()
    await removePrefix(redis, prefix)
  }
}

if (process.argv[2] === '--child') {
  await child(process.argv[3]!, process.argv[4]!)
} else {
  const redis = new Redis(base.SPARKGATE_REDIS_URL)
  console.log(
    `sparkgate bench:events — node ${process.version}, ${cpus().length} cores, ${new Date().toISOString()}`,
  )
  const parts = (process.env['BENCH_PARTS'] ?? '1,2,3').split(',')
  if (parts.includes('1') || parts.includes('2')) await throughputAndLatency(redis)
  if (parts.includes('3')) await idleStreams(redis)
  redis.disconnect()
}
