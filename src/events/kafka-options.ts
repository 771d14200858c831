/**
 * What the Kafka sink connects with: the SPARKGATE_KAFKA_* settings with their defaults,
 * and the client and producer options built from them (brokers, timeouts, retries, TLS,
 * SASL). The SASL password is handed to the client as a function, so no options object
 * shows it.
 */
import { isIP } from 'node:net'
import { ProduceAcks, stringSerializers, type ProducerOptions } from '@platformatic/kafka'
import { KafkaSinkError } from './kafka-errors.js'

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

/** The options with every default filled in. */
export type Options = Required<
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

export function withDefaults(o: KafkaSinkOptions): Options {
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

/** The bootstrap brokers of a `host:port,host:port` list; throws on any other shape. */
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
