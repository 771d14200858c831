/**
 * Events to the real Kafka broker through the gateway: the relay carries each tenant's
 * log to the topic (CloudEvents binary mode), a consumer reads a job's every transition
 * in order with its ce_* headers, keyed by the job id; two tenants' events carry their own
 * ce_tenant; and events made while Kafka was unreachable arrive once it is back (the log
 * is the outbox).
 */
import { randomUUID } from 'node:crypto'
import {
  Admin,
  Consumer,
  MessagesStreamModes,
  stringDeserializers,
  type Message,
} from '@platformatic/kafka'
import t from 'tap'
import type { App } from '../../src/app.js'
import { buildApp } from '../../src/app.js'
import { ADMIN_KEY, build, makeTenant, tenantOf, testConfig, uniqueId } from '../helpers/stack.js'

type Msg = Message<string, string, string, string>

async function consumeAll(
  t: { teardown: (fn: () => unknown) => void },
  brokers: string,
  topic: string,
  count: number,
): Promise<Msg[]> {
  const consumer = new Consumer({
    clientId: uniqueId('consumer'),
    groupId: uniqueId('group'),
    bootstrapBrokers: brokers.split(','),
    deserializers: stringDeserializers,
    maxWaitTime: 500,
  })
  t.teardown(() => new Promise<void>((resolve) => consumer.close(true, () => resolve())))
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    autocommit: false,
  })
  const out: Msg[] = []
  const timer = setTimeout(() => stream.destroy(new Error('timed out after 60 s')), 60_000)
  for await (const m of stream as AsyncIterable<Msg>) {
    out.push(m)
    if (out.length >= count) break
  }
  clearTimeout(timer)
  return out
}

async function dropTopic(brokers: string, topic: string) {
  const admin = new Admin({ clientId: uniqueId('admin'), bootstrapBrokers: brokers.split(',') })
  await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
  await admin.close().catch(() => undefined)
}

async function bareJob(app: App, tenant: string) {
  const id = randomUUID()
  const created = await app.jobStore.create(
    id,
    { batch: { file: 'hdfs://127.0.0.1:8020/app.py' } },
    { tenant, maxActive: 1000, backend: 'livy' },
  )
  if (!('job' in created)) throw new Error('over quota')
  return created.job
}

t.test('a job’s transitions reach Kafka in order, as CloudEvents, tenants apart', async (t) => {
  const brokers = testConfig().SPARKGATE_KAFKA_BROKERS
  const topic = uniqueId('sparkgate-test-events')
  t.teardown(() => dropTopic(brokers, topic))
  const app = await build(t, { SPARKGATE_ROLES: 'api,worker', SPARKGATE_KAFKA_TOPIC: topic })
  const a = tenantOf(app).id
  const b = (await makeTenant(app)).id
  const jobA = await bareJob(app, a)
  for (const [from, to] of [
    ['queued', 'staging'],
    ['staging', 'submitting'],
    ['submitting', 'submitted'],
    ['submitted', 'running'],
    ['running', 'succeeded'],
  ] as const)
    await app.jobStore.transition(jobA, [from], to)
  const jobB = await bareJob(app, b)

  const got = await consumeAll(t, brokers, topic, 7)
  const ofA = got.filter((m) => m.key === jobA.id)
  t.same(
    ofA.map((m) => m.headers.get('ce_type')),
    ['queued', 'staging', 'submitting', 'submitted', 'running', 'succeeded'].map(
      (s) => `dev.sparkgate.job.${s}`,
    ),
    'every transition of the job, in order',
  )
  t.equal(new Set(ofA.map((m) => m.partition)).size, 1, 'keyed by the job id: one partition')
  const first = ofA[0]!
  t.match(Object.fromEntries(first.headers), {
    'content-type': 'application/json',
    ce_specversion: '1.0',
    ce_id: /^[0-9a-f-]{36}$/,
    ce_source: `/sparkgate/${a}`,
    ce_subject: jobA.id,
    ce_tenant: a,
    ce_time: /^\d{4}-\d\d-\d\dT/,
  })
  t.match(JSON.parse(first.value) as object, {
    jobId: jobA.id,
    state: 'queued',
    sequence: 0,
  })
  // the same events as GET /v1/events, by id
  const log = await app.inject({ url: `/v1/events?subject=${jobA.id}` })
  t.same(
    ofA.map((m) => m.headers.get('ce_id')),
    log.json<{ items: { id: string }[] }>().items.map((e) => e.id),
  )
  const ofB = got.filter((m) => m.key === jobB.id)
  t.equal(ofB.length, 1)
  t.equal(ofB[0]!.headers.get('ce_tenant'), b, "B's event carries B")
  t.ok(
    ofA.every((m) => m.headers.get('ce_tenant') === a),
    "A's events carry A",
  )
  const ready = await app.inject({ url: '/readyz' })
  t.match(ready.json().dependencies.kafka, { up: true })
})

t.test('events made while Kafka is unreachable arrive once it is back', async (t) => {
  const config = testConfig()
  const brokers = config.SPARKGATE_KAFKA_BROKERS
  const topic = uniqueId('sparkgate-test-outbox')
  t.teardown(() => dropTopic(brokers, topic))
  // a gateway whose Kafka is a closed port: events stay in the log
  const down = await buildApp(
    testConfig({
      SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
      SPARKGATE_ROLES: 'api,worker',
      SPARKGATE_KAFKA_BROKERS: '127.0.0.1:1',
      SPARKGATE_KAFKA_TOPIC: topic,
    }),
  )
  await down.ready()
  const tenant = 'platform'
  const job = await bareJob(down, tenant)
  await down.jobStore.transition(job, ['queued'], 'cancelled')
  const ready = await down.inject({
    url: '/readyz',
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  })
  t.match(ready.json().dependencies?.kafka ?? {}, { up: false }, '/readyz reports Kafka down')
  await new Promise((resolve) => setTimeout(resolve, 500))
  await down.close()

  // the same Redis, Kafka reachable: the relay carries on from where it was
  const up = await buildApp(
    testConfig({
      SPARKGATE_REDIS_PREFIX: config.SPARKGATE_REDIS_PREFIX,
      SPARKGATE_ROLES: 'api,worker',
      SPARKGATE_KAFKA_TOPIC: topic,
    }),
  )
  t.teardown(() => up.close())
  await up.ready()
  const got = await consumeAll(t, brokers, topic, 2)
  t.same(
    got.map((m) => [m.key, m.headers.get('ce_type')]),
    [
      [job.id, 'dev.sparkgate.job.queued'],
      [job.id, 'dev.sparkgate.job.cancelled'],
    ],
  )
})
