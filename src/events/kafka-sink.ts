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
import { isIP } from 'node:net'
import {
  Admin,
  ProduceAcks,
  Producer,
  stringSerializers,
  type MessageToProduce,
  type ProducerOptions,
} from '@platformatic/kafka'
import type { CloudEvent, StoredEvent } from '../schemas/events.js'
import type { EventSink } from './event-sink.js'

export const KAFKA_SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const
export type KafkaSecurityProtocol = (typeof KAFKA_SECURITY_PROTOCOLS)[number]
export const KAFKA_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const
export type KafkaSaslMechanism = (typeof KAFKA_SASL_MECHANISMS)[number]

export interface KafkaSinkLogger {
  warn(obj: object, msg: string): void
  info(obj: object, msg: string): void
}

/** What the sink needs (the SPARKGATE_KAFKA_* variables and a client id), nothing more. */
export interface KafkaSinkOptions {
  /** bootstrap brokers, comma-separated `host:port` */
  brokers: string
  topic: string
  /** default PLAINTEXT; SSL and SASL_SSL turn TLS on (Node's default CAs) */
  securityProtocol?: KafkaSecurityProtocol
  /** default PLAIN; used by SASL_PLAINTEXT and SASL_SSL only */
  saslMechanism?: KafkaSaslMechanism
  saslUsername?: string
  saslPassword?: string
  clientId: string
  log: KafkaSinkLogger
  /** partitions of the topic when the sink creates it (default 3) */
  partitions?: number
  /** TCP + TLS + SASL set-up of one connection (default 10 s) */
  connectTimeoutMs?: number
  /**
   * How long one request may wait for its answer (default 30 s; the broker gets a little
   * less to gather the acks=all replicas, so it answers with an error before we give up).
   */
  requestTimeoutMs?: number
  /**
   * retries of each step (metadata, producer id, produce); at least 2 (default 3: with a
   * broker that takes connections and never answers, a step gives up after about
   * (retries + 1) × (requestTimeoutMs + retryDelayMs), 2 min by default, like the Java
   * client's delivery.timeout.ms)
   */
  retries?: number
  /** pause between retries (default 500 ms) */
  retryDelayMs?: number
  /** the admin client's timeouts (topic check and creation, ready()); default 3 s */
  probeTimeoutMs?: number
}

type Options = Required<
  Omit<KafkaSinkOptions, 'saslUsername' | 'saslPassword' | 'log' | 'saslMechanism'>
> &
  Pick<KafkaSinkOptions, 'saslUsername' | 'saslPassword' | 'log' | 'saslMechanism'>

type StringProducerOptions = ProducerOptions<string, string, string, string>
type ClientOptions = Pick<
  StringProducerOptions,
  | 'clientId'
  | 'bootstrapBrokers'
  | 'connectTimeout'
  | 'requestTimeout'
  | 'timeout'
  | 'retries'
  | 'retryDelay'
  | 'tls'
  | 'tlsServerName'
  | 'sasl'
>

export type KafkaMessage = MessageToProduce<string, string, string, string>

/** A failure of the sink: the client's error chain summed up, with no secret in it. */
export class KafkaSinkError extends Error {
  constructor(
    message: string,
    /** the Kafka protocol error ids found in the chain (`TOPIC_AUTHORIZATION_FAILED` …) */
    readonly kafkaErrors: string[] = [],
  ) {
    super(message)
    this.name = 'KafkaSinkError'
  }
}

/** Producer-state faults after which only a new producer id (a new producer) helps. */
const PRODUCER_RESET_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
])

/** Topic creation the cluster will not do (Event Hubs, ACLs, policies): not worth a retry. */
const CREATE_REFUSED_ERRORS = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'POLICY_VIOLATION',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'INVALID_REQUEST',
  'UNSUPPORTED_VERSION',
])

const MAX_BATCH_BYTES = 256 * 1024
const MAX_BATCH_MESSAGES = 500

function withDefaults(o: KafkaSinkOptions): Options {
  return {
    securityProtocol: 'PLAINTEXT',
    saslMechanism: 'PLAIN',
    partitions: 3,
    connectTimeoutMs: 10_000,
    requestTimeoutMs: 30_000,
    retries: 3,
    retryDelayMs: 500,
    probeTimeoutMs: 3_000,
    ...stripUndefined(o),
  } as Options
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>
}

export function parseBrokers(brokers: string): string[] {
  const list = brokers
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean)
  if (list.length === 0 || list.some((b) => !/^[^\s:]+:\d{1,5}$/.test(b)))
    throw new KafkaSinkError(`Kafka brokers must be comma-separated host:port, not '${brokers}'`)
  return list
}

/**
 * What every client of the sink connects with: brokers, timeouts, retries, TLS and SASL.
 * The password is a function returning it (never a string in the object).
 */
export function kafkaClientOptions(
  input: KafkaSinkOptions,
  overrides: { connectTimeoutMs?: number; requestTimeoutMs?: number; retries?: number } = {},
): ClientOptions {
  const o = withDefaults(input)
  const bootstrapBrokers = parseBrokers(o.brokers)
  const connectTimeout = overrides.connectTimeoutMs ?? o.connectTimeoutMs
  const requestTimeout = overrides.requestTimeoutMs ?? o.requestTimeoutMs
  const retries = overrides.retries ?? o.retries
  const options: ClientOptions = {
    clientId: o.clientId,
    bootstrapBrokers,
    connectTimeout,
    requestTimeout,
    // the broker's own wait for the acks=all replicas: shorter than ours, so it answers
    timeout: Math.max(100, Math.min(requestTimeout - 1_000, Math.floor(requestTimeout * 0.8))),
    retries,
    retryDelay: o.retryDelayMs,
  }
  const protocol = o.securityProtocol
  if (!KAFKA_SECURITY_PROTOCOLS.includes(protocol))
    throw new KafkaSinkError(
      `Kafka security protocol '${String(protocol)}' is not one of ${KAFKA_SECURITY_PROTOCOLS.join(', ')}`,
    )
  if (protocol === 'SSL' || protocol === 'SASL_SSL') {
    // Node's default CAs; SNI with the broker's host name (Event Hubs routes by it)
    options.tls = {}
    options.tlsServerName = !bootstrapBrokers.every((b) => isIP(b.slice(0, b.lastIndexOf(':'))))
  }
  if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') {
    const mechanism = o.saslMechanism ?? 'PLAIN'
    if (!KAFKA_SASL_MECHANISMS.includes(mechanism))
      throw new KafkaSinkError(
        `Kafka SASL mechanism '${String(mechanism)}' is not one of ${KAFKA_SASL_MECHANISMS.join(', ')}`,
      )
    if (!o.saslUsername || !o.saslPassword)
      throw new KafkaSinkError(`Kafka ${protocol} needs a SASL username and password`)
    const password = o.saslPassword
    options.sasl = { mechanism, username: o.saslUsername, password: () => password }
  }
  return options
}

/**
 * The producer's options: idempotent (which makes the client use acks=all and one
 * request in flight per connection, so a partition's batches cannot overtake each other),
 * a finite number of retries (with `idempotent` and no retries the client would retry
 * forever, and accept() must fail in bounded time), topics auto-created where allowed.
 */
export function kafkaProducerOptions(input: KafkaSinkOptions): StringProducerOptions {
  const o = withDefaults(input)
  return {
    ...kafkaClientOptions(input),
    // the client raises retries of 0 or 1 to "forever" for an idempotent producer
    retries: Math.max(2, o.retries),
    idempotent: true,
    acks: ProduceAcks.ALL,
    autocreateTopics: true,
    serializers: stringSerializers,
  }
}

/** One event as a Kafka message: CloudEvents Kafka binding, binary content mode. */
export function toKafkaMessage(topic: string, event: CloudEvent): KafkaMessage {
  return {
    topic,
    key: event.subject,
    value: JSON.stringify(event.data ?? null),
    headers: {
      'content-type': event.datacontenttype,
      ce_specversion: event.specversion,
      ce_id: event.id,
      ce_source: event.source,
      ce_type: event.type,
      ce_subject: event.subject,
      ce_time: event.time,
      ce_tenant: event.tenant,
    },
  }
}

interface ErrorSummary {
  message: string
  kafkaErrors: string[]
}

/**
 * The client nests its errors (AggregateErrors of retries, of brokers, causes): one line
 * with the distinct messages, outermost first, and the protocol error ids.
 */
function summarize(error: unknown): ErrorSummary {
  const messages: string[] = []
  const kafkaErrors = new Set<string>()
  const seen = new Set<unknown>()
  const walk = (e: unknown, depth: number) => {
    if (!e || typeof e !== 'object' || seen.has(e) || depth > 8) return
    seen.add(e)
    const err = e as {
      message?: unknown
      apiId?: unknown
      serverErrorMessage?: unknown
      errors?: unknown
      cause?: unknown
    }
    if (typeof err.message === 'string' && err.message && !messages.includes(err.message))
      messages.push(err.message)
    if (typeof err.apiId === 'string') kafkaErrors.add(err.apiId)
    if (typeof err.serverErrorMessage === 'string' && !messages.includes(err.serverErrorMessage))
      messages.push(err.serverErrorMessage)
    if (Array.isArray(err.errors)) for (const inner of err.errors) walk(inner, depth + 1)
    walk(err.cause, depth + 1)
  }
  walk(error, 0)
  if (messages.length === 0) messages.push(String(error))
  const shown = messages
    .slice(0, 6)
    .map((m) => m.replace(/\.$/, ''))
    .join(': ')
  return { message: messages.length > 6 ? `${shown} …` : shown, kafkaErrors: [...kafkaErrors] }
}

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

function isUnknownTopic(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Unknown topic ')
}

function messageSize(m: KafkaMessage): number {
  let size = Buffer.byteLength(m.value ?? '') + Buffer.byteLength(m.key ?? '') + 70
  for (const [k, v] of Object.entries(m.headers ?? {}))
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v)) + 4
  return size
}
