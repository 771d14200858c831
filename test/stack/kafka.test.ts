/**
 * The stack's Kafka is a real broker: a topic with three partitions made through the admin
 * API, an idempotent producer's keyed messages with headers, and a consumer group reading
 * them back, each key's messages in one partition and in the order they were sent.
 */
import t from 'tap'
import {
  Admin,
  Consumer,
  MessagesStreamModes,
  ProduceAcks,
  Producer,
  stringDeserializers,
  stringSerializers,
  type Message,
} from '@platformatic/kafka'
import { testConfig, uniqueId } from '../helpers/stack.js'

const KEYS = ['tenant-a', 'tenant-b', 'tenant-c'] as const
const PER_KEY = 4

t.test(
  'the stack Kafka stores keyed messages with headers and hands them back in order',
  async (t) => {
    const bootstrapBrokers = testConfig().SPARKGATE_KAFKA_BROKERS.split(',')
    const topic = uniqueId('sparkgate-test-kafka')
    const admin = new Admin({ clientId: uniqueId('admin'), bootstrapBrokers })
    const producer = new Producer({
      clientId: uniqueId('producer'),
      bootstrapBrokers,
      idempotent: true,
      acks: ProduceAcks.ALL,
      serializers: stringSerializers,
    })
    const consumer = new Consumer({
      clientId: uniqueId('consumer'),
      groupId: uniqueId('group'),
      bootstrapBrokers,
      deserializers: stringDeserializers,
      maxWaitTime: 500,
    })
    let created = false
    t.teardown(async () => {
      // force: the consumer's stream is still open when a step below failed
      await new Promise<void>((resolve) => consumer.close(true, () => resolve()))
      await producer.close().catch(() => undefined)
      if (created) await admin.deleteTopics({ topics: [topic] }).catch(() => undefined)
      await admin.close().catch(() => undefined)
    })

    await admin.createTopics({ topics: [topic], partitions: 3, replicas: 1 })
    created = true
    const metadata = await admin.metadata({ topics: [topic] })
    t.equal(metadata.topics.get(topic)?.partitionsCount, 3, 'three partitions')
    t.same(
      [...metadata.brokers.values()].map((b) => `${b.host}:${b.port}`),
      bootstrapBrokers,
    )

    // two sends, the keys interleaved: order is per key (per partition), not global
    const sent: { key: string; value: string; seq: number }[] = []
    for (const half of [0, 1]) {
      const messages = []
      for (let i = half * (PER_KEY / 2); i < (half + 1) * (PER_KEY / 2); i++)
        for (const key of KEYS) {
          const value = JSON.stringify({ key, seq: i })
          sent.push({ key, value, seq: i })
          messages.push({
            topic,
            key,
            value,
            headers: { seq: String(i), source: 'sparkgate-test' },
          })
        }
      const result = await producer.send({ messages })
      t.ok(result.offsets?.length, `send ${half + 1} acknowledged`)
    }
    t.type(producer.producerId, 'bigint', 'the broker gave the idempotent producer an id')

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

    t.equal(received.length, sent.length, 'every message came back')
    for (const key of KEYS) {
      const mine = received.filter((m) => m.key === key)
      t.same(
        mine.map((m) => m.value),
        sent.filter((s) => s.key === key).map((s) => s.value),
        `${key}: values in the order sent`,
      )
      t.equal(new Set(mine.map((m) => m.partition)).size, 1, `${key}: one partition`)
      t.ok(
        mine.every((m, i) => i === 0 || m.offset > mine[i - 1]!.offset),
        `${key}: offsets increase`,
      )
      t.same(
        mine.map((m) => Object.fromEntries(m.headers)),
        sent
          .filter((s) => s.key === key)
          .map((s) => ({ seq: String(s.seq), source: 'sparkgate-test' })),
        `${key}: headers`,
      )
    }
    t.ok(
      received.every((m) => m.topic === topic && m.partition >= 0 && m.partition < 3),
      'all from the test topic',
    )
    // the keys hash to different partitions (murmur2, as the Java client): the consumer
    // interleaves partitions, so the per-key order above is not a global order by chance
    t.ok(new Set(received.map((m) => m.partition)).size > 1, 'the keys span partitions')
  },
)
