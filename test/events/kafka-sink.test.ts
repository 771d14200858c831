/**
 * The Kafka sink against the stack's real broker: each tenant's events as CloudEvents in
 * binary content mode (data as the value, ce_* headers, the subject as the key), a job's
 * events in one partition and in order; a broker that is not there fails accept() in
 * bounded time without the password in sight; and the options it builds for Azure Event
 * Hubs (SASL_SSL, PLAIN, $ConnectionString), checked without connecting.
 */
import { inspect } from 'node:util'
import t from 'tap'
import {
  Admin,
  Consumer,
  MessagesStreamModes,
  stringDeserializers,
  type Message,
} from '@platformatic/kafka'
import { KafkaSinkError } from '../../src/events/kafka-errors.js'
import { toKafkaMessage } from '../../src/events/kafka-message.js'
import {
  kafkaClientOptions,
  kafkaProducerOptions,
  type KafkaSinkLogger,
} from '../../src/events/kafka-options.js'
import { KafkaSink } from '../../src/events/kafka-sink.js'
import {
  eventEnvelope,
  jobEventType,
  type CloudEvent,
  type EventType,
  type StoredEvent,
  type JobEventData,
} from '../../src/schemas/events.js'
import { testConfig, uniqueId } from '../helpers/stack.js'

type Logged = { level: 'warn' | 'info'; obj: object; msg: string }

function recordingLog(): KafkaSinkLogger & { lines: Logged[] } {
  const lines: Logged[] = []
  return {
    lines,
    warn: (obj, msg) => lines.push({ level: 'warn', obj, msg }),
    info: (obj, msg) => lines.push({ level: 'info', obj, msg }),
  }
}

const STATES = ['queued', 'staging', 'submitting', 'submitted', 'running', 'succeeded']

function jobEvents(tenant: string, jobId: string, startMs: number): CloudEvent[] {
  return STATES.map((state, i) => ({
    ...eventEnvelope(tenant, jobEventType(state), jobId, new Date(startMs + i).toISOString()),
    data: {
      jobId,
      name: `train ${jobId}`,
      state,
      previousState: i === 0 ? null : STATES[i - 1]!,
      reason: null,
      attempt: i >= 3 ? 1 : 0,
      backend: 'livy',
      backendRef: i >= 3 ? { id: 'batch-7' } : null,
      error: null,
      sequence: i,
    } satisfies JobEventData,
  }))
}

function datasetEvent(tenant: string, datasetId: string, type: EventType): CloudEvent {
  return {
    ...eventEnvelope(tenant, type, datasetId),
    data: { id: datasetId, name: 'iris', format: 'csv', sizeBytes: 4551, tags: ['ü', 'ß'] },
  }
}

/** Interleaves a tenant's events as its log would hold them, with stream positions. */
function stored(events: CloudEvent[], baseMs: number): StoredEvent[] {
  return events.map((event, i) => ({ position: `${baseMs + i}-0`, event }))
}

function expectedHeaders(e: CloudEvent): Record<string, string> {
  return {
    'content-type': 'application/json',
    ce_specversion: '1.0',
    ce_id: e.id,
    ce_source: e.source,
    ce_type: e.type,
    ce_subject: e.subject,
    ce_time: e.time,
    ce_tenant: e.tenant,
  }
}

t.test(
  'accept() produces each event in binary mode, a job in order on one partition',
  async (t) => {
    const brokers = testConfig().SPARKGATE_KAFKA_BROKERS
    const topic = uniqueId('sparkgate-test-sink')
    const log = recordingLog()
    const sink = KafkaSink.create({ brokers, topic, clientId: uniqueId('sink'), log })
    const admin = new Admin({ clientId: uniqueId('admin'), bootstrapBrokers: brokers.split(',') })
    const consumer = new Consumer({
      clientId: uniqueId('consumer'),
      groupId: uniqueId('group'),
      bootstrapBrokers: brokers.split(','),
      deserializers: stringDeserializers,
      maxWaitTime: 500,
    })
    t.teardown(async () => {
      await new Promise<void>((resolve) => consumer.close(true, () => resolve()))
      await sink.close()
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
      await admin.close().catch(() => undefined)
    })

    t.equal(sink.name, 'kafka')
    t.equal(sink.endpoint, `kafka://${brokers}/${topic}`)
    t.equal(await sink.ready(), true, 'ready before the topic exists (the first event makes it)')

    const now = Date.parse('2026-11-23T10:00:00.000Z')
    const a = uniqueId('tenant-a')
    const b = uniqueId('tenant-b')
    const jobA1 = uniqueId('job-a1')
    const jobA2 = uniqueId('job-a2')
    const jobB = uniqueId('job-b')
    // tenant a: two jobs interleaved, and a dataset between them
    const a1 = jobEvents(a, jobA1, now)
    const a2 = jobEvents(a, jobA2, now + 100)
    const dataset = datasetEvent(a, uniqueId('ds'), 'dev.sparkgate.dataset.created')
    const aEvents = a1.flatMap((e, i) => (i === 2 ? [e, a2[i]!, dataset] : [e, a2[i]!]))
    const bEvents = [...jobEvents(b, jobB, now + 200)]

    await sink.accept(a, stored(aEvents, now))
    await sink.accept(b, stored(bEvents, now + 1000))
    await sink.accept(b, [])

    const metadata = await admin.metadata({ topics: [topic] })
    t.equal(
      metadata.topics.get(topic)?.partitionsCount,
      3,
      'the sink created the topic: 3 partitions',
    )
    t.ok(
      log.lines.some((l) => l.level === 'info' && l.msg.includes('created the topic')),
      'and said so',
    )

    const sent = [...aEvents, ...bEvents]
    const stream = await consumer.consume({
      topics: [topic],
      mode: MessagesStreamModes.EARLIEST,
      autocommit: false,
    })
    const received: Message<string, string, string, string>[] = []
    const timer = setTimeout(() => stream.destroy(new Error('timed out after 30 s')), 30_000)
    t.teardown(() => clearTimeout(timer))
    for await (const message of stream as AsyncIterable<Message<string, string, string, string>>) {
      received.push(message)
      if (received.length === sent.length) break
    }
    clearTimeout(timer)
    t.equal(received.length, sent.length, 'every event came back, once')

    const byId = new Map(received.map((m) => [m.headers.get('ce_id'), m]))
    for (const e of sent) {
      const m = byId.get(e.id)
      if (!t.ok(m, `${e.type} ${e.subject} was produced`)) continue
      t.equal(m!.key, e.subject, 'key = subject')
      t.equal(m!.value, JSON.stringify(e.data), 'value = the data as JSON')
      t.same(JSON.parse(m!.value), e.data)
      t.same(Object.fromEntries(m!.headers), expectedHeaders(e), 'content-type and ce_* headers')
      t.equal(m!.topic, topic)
    }
    t.equal(
      byId.get(dataset.id)?.value,
      JSON.stringify(dataset.data),
      'UTF-8 data comes back whole',
    )

    for (const [job, events] of [
      [jobA1, a1],
      [jobA2, a2],
      [jobB, bEvents],
    ] as const) {
      const mine = received.filter((m) => m.key === job)
      t.equal(new Set(mine.map((m) => m.partition)).size, 1, `${job}: one partition`)
      t.same(
        mine.map((m) => m.headers.get('ce_id')),
        events.map((e) => e.id),
        `${job}: in log order`,
      )
      t.same(
        mine.map((m) => (JSON.parse(m.value) as JobEventData).sequence),
        STATES.map((_, i) => i),
        `${job}: sequence 0…${STATES.length - 1}`,
      )
    }
    // (which partitions the four subjects hash to is Kafka's choice: all in one happens)
    t.notOk(
      log.lines.some((l) => l.level === 'warn'),
      'no warnings on the happy path',
    )
  },
)

t.test(
  'accept() to a broker that is not there rejects in bounded time, password-free',
  async (t) => {
    const password =
      'Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=send;SharedAccessKey=Zm9vYmFyU2VjcmV0PQ=='
    const log = recordingLog()
    const sink = new KafkaSink({
      brokers: '127.0.0.1:1',
      topic: uniqueId('sparkgate-test-sink'),
      securityProtocol: 'SASL_PLAINTEXT',
      saslMechanism: 'PLAIN',
      saslUsername: '$ConnectionString',
      saslPassword: password,
      clientId: uniqueId('sink'),
      log,
      connectTimeoutMs: 500,
      requestTimeoutMs: 500,
      retries: 2,
      retryDelayMs: 50,
      probeTimeoutMs: 500,
    })
    t.teardown(() => sink.close())
    const tenant = uniqueId('tenant')
    const events = stored(jobEvents(tenant, uniqueId('job'), Date.now()), Date.now())

    const started = Date.now()
    const error = await sink.accept(tenant, events).then(
      () => undefined,
      (e: unknown) => e,
    )
    const took = Date.now() - started
    t.type(error, KafkaSinkError, 'rejects with a KafkaSinkError')
    t.ok(took < 10_000, `within a bounded time (${took} ms)`)
    const text = inspect(error, { depth: 10 })
    t.match((error as Error).message, /127\.0\.0\.1:1/, 'says which broker')
    t.notMatch(text, 'Zm9vYmFyU2VjcmV0', 'holds no password')
    t.notMatch(text, password)

    t.equal(await sink.ready(), false, 'not ready')
    const checked = await sink.check().then(
      () => undefined,
      (e: unknown) => e,
    )
    t.type(checked, KafkaSinkError, 'check() says why')
    t.notMatch(inspect(checked, { depth: 10 }), 'Zm9vYmFyU2VjcmV0')
    t.notMatch(inspect(log.lines, { depth: 10 }), 'Zm9vYmFyU2VjcmV0', 'logs hold no password')

    await sink.close()
    await t.rejects(sink.accept(tenant, events), /closed/, 'a closed sink refuses')
  },
)

t.test('SASL against the PLAINTEXT-only stack broker fails without the password', async (t) => {
  const password = 'not-a-real-password-8f3c1a'
  const sink = new KafkaSink({
    brokers: testConfig().SPARKGATE_KAFKA_BROKERS,
    topic: uniqueId('sparkgate-test-sink'),
    securityProtocol: 'SASL_PLAINTEXT',
    saslMechanism: 'SCRAM-SHA-256',
    saslUsername: 'sparkgate',
    saslPassword: password,
    clientId: uniqueId('sink'),
    log: recordingLog(),
    connectTimeoutMs: 1000,
    requestTimeoutMs: 1000,
    retries: 2,
    retryDelayMs: 50,
    probeTimeoutMs: 1000,
  })
  t.teardown(() => sink.close())
  const tenant = uniqueId('tenant')
  const started = Date.now()
  const error = await sink
    .accept(tenant, stored(jobEvents(tenant, uniqueId('job'), Date.now()), Date.now()))
    .then(
      () => undefined,
      (e: unknown) => e,
    )
  t.type(error, KafkaSinkError)
  t.ok(Date.now() - started < 15_000, 'within a bounded time')
  t.notMatch(inspect(error, { depth: 10 }), password)
})

t.test(
  'options for Azure Event Hubs: SASL_SSL, PLAIN, $ConnectionString (no connection)',
  async (t) => {
    const connectionString =
      'Endpoint=sb://sparkgate-ns.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=c2VjcmV0LWtleS12YWx1ZQ=='
    const input = {
      brokers: 'sparkgate-ns.servicebus.windows.net:9093',
      topic: 'sparkgate.events',
      securityProtocol: 'SASL_SSL',
      saslMechanism: 'PLAIN',
      saslUsername: '$ConnectionString',
      saslPassword: connectionString,
      clientId: 'sparkgate',
      log: recordingLog(),
    } as const
    const options = kafkaProducerOptions(input)
    t.same(options.bootstrapBrokers, ['sparkgate-ns.servicebus.windows.net:9093'])
    t.same(options.tls, {}, 'TLS on, with the default CAs')
    t.equal(options.tlsServerName, true, 'SNI with the broker host name')
    t.equal(options.sasl?.mechanism, 'PLAIN')
    t.equal(options.sasl?.username, '$ConnectionString')
    const password = options.sasl?.password
    t.type(password, 'function', 'the password is behind a function')
    t.equal(typeof password === 'function' ? await password() : password, connectionString)
    t.equal(options.idempotent, true)
    t.equal(options.acks, -1, 'acks=all')
    t.ok(
      typeof options.retries === 'number' && options.retries >= 2 && options.retries < 100,
      'a finite number of retries',
    )
    t.ok(options.requestTimeout && options.timeout && options.timeout < options.requestTimeout)
    t.equal(options.autocreateTopics, true)
    t.notMatch(inspect(options, { depth: 10 }), 'c2VjcmV0', 'printing the options shows no key')
    t.notMatch(JSON.stringify(options), 'c2VjcmV0')

    // the client itself takes them (it validates options when constructed, before any I/O)
    const sink = new KafkaSink(input)
    t.equal(sink.endpoint, 'kafka://sparkgate-ns.servicebus.windows.net:9093/sparkgate.events')
    t.notMatch(inspect(sink, { depth: 10 }), 'c2VjcmV0', 'printing the sink shows no key')
    t.throws(
      () => kafkaClientOptions({ ...input, saslMechanism: 'GSSAPI' as 'PLAIN' }),
      /SASL mechanism 'GSSAPI'/,
    )
    await sink.close()

    t.same(
      (({ tls, sasl }) => ({ tls, sasl }))(
        kafkaClientOptions({
          brokers: '127.0.0.1:9092',
          topic: 'x',
          clientId: 'c',
          log: input.log,
        }),
      ),
      { tls: undefined, sasl: undefined },
      'PLAINTEXT: neither TLS nor SASL',
    )
    const ssl = kafkaClientOptions({ ...input, securityProtocol: 'SSL' })
    t.same([ssl.tls, ssl.sasl], [{}, undefined], 'SSL: TLS, no SASL')
    const scram = kafkaClientOptions({
      ...input,
      securityProtocol: 'SASL_PLAINTEXT',
      saslMechanism: 'SCRAM-SHA-512',
    })
    t.same([scram.tls, scram.sasl?.mechanism], [undefined, 'SCRAM-SHA-512'], 'SASL_PLAINTEXT')
    t.throws(
      () => kafkaClientOptions({ ...input, saslPassword: '' }),
      /SASL username and password/,
      'SASL without a password is refused up front',
    )
    t.throws(() => kafkaClientOptions({ ...input, brokers: 'no-port' }), KafkaSinkError)
  },
)

t.test('toKafkaMessage: the binding, attribute by attribute', async (t) => {
  const event: CloudEvent = {
    ...eventEnvelope(
      'acme',
      'dev.sparkgate.model.version.registered',
      'churn',
      '2026-11-23T10:00:00.000Z',
    ),
    data: { model: 'churn', version: 3 },
  }
  t.same(toKafkaMessage('topic-x', event), {
    topic: 'topic-x',
    key: 'churn',
    value: '{"model":"churn","version":3}',
    headers: expectedHeaders(event),
  })
})
