/**
 * The Kafka side of the event relay: every event of every tenant's log, produced to one
 * topic (an event hub on Azure Event Hubs) in the CloudEvents Kafka binding's binary
 * content mode (cloudevents/spec v1.0.2, bindings/kafka-protocol-binding.md):
 *
 *   key      the event's subject (a job's events share a partition, so they stay in order)
 *   value    the event's data as JSON, UTF-8
 *   headers  content-type: application/json (the datacontenttype) and one
 *            `ce_<attribute>` per other context attribute: ce_specversion, ce_id,
 *            ce_source, ce_type, ce_subject, ce_time, ce_tenant (the extension)
 *
 * accept() resolves only once the brokers acknowledged every message (an idempotent
 * producer, acks=all) and throws otherwise; the relay then hands the same events over
 * again, so delivery is at least once and consumers dedupe by ce_id. The idempotent
 * producer spares most duplicates (a retried batch the broker already wrote is recognised
 * by its sequence numbers); a new producer after a sequence fault, or a resend of a batch
 * that was acknowledged before a later one failed, still duplicates.
 *
 * The SASL password is handed to the client as a function, so the options object shows
 * none, and every message thrown or logged from here has it cut out.
 */
import { Admin, Producer } from '@platformatic/kafka'
import type { StoredEvent } from '../schemas/events.js'
import type { EventSink } from './event-sink.js'
import {
  CREATE_REFUSED_ERRORS,
  KafkaSinkError,
  PRODUCER_RESET_ERRORS,
  isUnknownTopic,
  summarize,
} from './kafka-errors.js'
import { messageSize, toKafkaMessage, type KafkaMessage } from './kafka-message.js'
import {
  kafkaClientOptions,
  kafkaProducerOptions,
  parseBrokers,
  withDefaults,
  type KafkaSinkLogger,
  type KafkaSinkOptions,
  type Options,
} from './kafka-options.js'

const MAX_BATCH_BYTES = 256 * 1024
const MAX_BATCH_MESSAGES = 500

export class KafkaSink implements EventSink {
  readonly name = 'kafka'
  readonly topic: string
  /** where the events go, without credentials (for /readyz and logs) */
  readonly endpoint: string
  // ES private (#): a logged or inspected sink shows neither, nor the password in them
  readonly #options: Options
  readonly #input: KafkaSinkOptions
  private readonly log: KafkaSinkLogger
  private producer: Producer<string, string, string, string>
  private admin?: Admin
  /** settled once the topic is known to exist, or known not to be ours to create */
  private topicChecked = false
  private closed = false

  constructor(options: KafkaSinkOptions) {
    this.#input = { ...options }
    this.#options = withDefaults(options)
    this.topic = this.#options.topic
    this.log = options.log
    this.endpoint = `kafka://${parseBrokers(this.#options.brokers).join(',')}/${this.topic}`
    this.producer = this.newProducer()
  }

  static create(options: KafkaSinkOptions): KafkaSink {
    return new KafkaSink(options)
  }

  private newProducer(): Producer<string, string, string, string> {
    return new Producer(kafkaProducerOptions(this.#input))
  }

  private getAdmin(): Admin {
    this.admin ??= new Admin(
      kafkaClientOptions(
        { ...this.#input, clientId: `${this.#options.clientId}-admin` },
        {
          connectTimeoutMs: this.#options.probeTimeoutMs,
          requestTimeoutMs: this.#options.probeTimeoutMs,
          retries: 0,
        },
      ),
    )
    return this.admin
  }

  /** An error from the client as one we may throw or log: summed up, the password cut out. */
  private sanitize(error: unknown, what: string): KafkaSinkError {
    const { message, kafkaErrors } = summarize(error)
    return new KafkaSinkError(this.redact(`${what}: ${message}`), kafkaErrors)
  }

  private redact(text: string): string {
    let out = text
    const secret = this.#options.saslPassword
    if (secret) out = out.split(secret).join('[redacted]')
    // an Event Hubs connection string's key, should a part of one turn up
    return out.replace(/(SharedAccessKey=)[^;\s'"]+/gi, '$1[redacted]')
  }

  /**
   * Creates the topic on first use when it is missing (with `partitions`, the cluster's
   * default replication); a cluster that refuses (Event Hubs, ACLs) is left to its own
   * auto-creation or an operator, with a warning. Never throws.
   */
  private async ensureTopic(): Promise<void> {
    if (this.topicChecked) return
    const admin = this.getAdmin()
    try {
      await admin.metadata({ topics: [this.topic], forceUpdate: true })
      this.topicChecked = true
      return
    } catch (error) {
      if (!isUnknownTopic(error)) {
        // unreachable, or no right to describe it: the send will tell; try again next time
        this.log.warn(
          { err: this.sanitize(error, 'metadata'), topic: this.topic },
          'kafka sink: could not look the topic up',
        )
        return
      }
    }
    try {
      await admin.createTopics({
        topics: [this.topic],
        partitions: this.#options.partitions,
        replicas: -1,
      })
      this.topicChecked = true
      this.log.info(
        { topic: this.topic, partitions: this.#options.partitions },
        'kafka sink: created the topic',
      )
    } catch (error) {
      const err = this.sanitize(error, 'create topic')
      if (err.kafkaErrors.includes('TOPIC_ALREADY_EXISTS')) {
        this.topicChecked = true
        return
      }
      if (err.kafkaErrors.some((id) => CREATE_REFUSED_ERRORS.has(id))) this.topicChecked = true
      this.log.warn(
        { err, topic: this.topic },
        'kafka sink: could not create the topic; relying on auto-creation',
      )
    }
  }

  /**
   * Produces one tenant's events, in order, and resolves once every message is
   * acknowledged by all in-sync replicas. Large lists go out in consecutive sends of at
   * most 256 KiB / 500 messages (under the 1 MB request cap of Event Hubs); one send
   * writes one batch per partition, in the given order.
   */
  async accept(tenant: string, events: StoredEvent[]): Promise<void> {
    if (this.closed) throw new KafkaSinkError('kafka sink is closed')
    if (events.length === 0) return
    await this.ensureTopic()
    let batch: KafkaMessage[] = []
    let bytes = 0
    const flush = async () => {
      if (batch.length === 0) return
      const messages = batch
      batch = []
      bytes = 0
      await this.send(tenant, messages)
    }
    for (const { event } of events) {
      const message = toKafkaMessage(this.topic, event)
      const size = messageSize(message)
      if (
        batch.length > 0 &&
        (bytes + size > MAX_BATCH_BYTES || batch.length >= MAX_BATCH_MESSAGES)
      )
        await flush()
      batch.push(message)
      bytes += size
    }
    await flush()
  }

  private async send(tenant: string, messages: KafkaMessage[]): Promise<void> {
    const producer = this.producer
    try {
      await producer.send({ messages })
    } catch (error) {
      const err = this.sanitize(error, `producing ${messages.length} event(s) to ${this.topic}`)
      if (err.kafkaErrors.some((id) => PRODUCER_RESET_ERRORS.has(id)) && !this.closed) {
        // the broker no longer takes this producer's sequence: start afresh (a new id)
        this.log.warn({ err, tenant }, 'kafka sink: producer state lost, starting a new producer')
        if (this.producer === producer) {
          this.producer = this.newProducer()
          producer.close(true, () => undefined)
        }
      }
      throw err
    }
  }

  /**
   * Readiness: the brokers answer a metadata request for the topic within
   * `probeTimeoutMs` (a missing topic still counts: the first event creates it). Throws
   * a KafkaSinkError saying why when they do not; reads only, creates nothing.
   */
  async check(): Promise<void> {
    if (this.closed) throw new KafkaSinkError('kafka sink is closed')
    try {
      await this.getAdmin().metadata({ topics: [this.topic], forceUpdate: true })
    } catch (error) {
      if (isUnknownTopic(error)) return
      throw this.sanitize(error, `kafka ${this.endpoint}`)
    }
  }

  /** check() as a yes or no. */
  async ready(): Promise<boolean> {
    return this.check().then(
      () => true,
      () => false,
    )
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([
      this.producer.close().catch(() => undefined),
      this.admin?.close().catch(() => undefined),
    ])
  }
}
