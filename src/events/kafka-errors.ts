/**
 * The Kafka sink's faults: the client nests its errors (AggregateErrors of retries, of
 * brokers, causes), so they are summed up in one line with the protocol error ids, which
 * decide what the sink does next (a new producer, a topic left to auto-creation).
 */

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
export const PRODUCER_RESET_ERRORS = new Set([
  'OUT_OF_ORDER_SEQUENCE_NUMBER',
  'UNKNOWN_PRODUCER_ID',
  'INVALID_PRODUCER_EPOCH',
  'INVALID_PRODUCER_ID_MAPPING',
  'PRODUCER_FENCED',
])

/** Topic creation the cluster will not do (Event Hubs, ACLs, policies): not worth a retry. */
export const CREATE_REFUSED_ERRORS = new Set([
  'TOPIC_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'POLICY_VIOLATION',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'INVALID_REQUEST',
  'UNSUPPORTED_VERSION',
])

export interface ErrorSummary {
  message: string
  kafkaErrors: string[]
}

/**
 * The client nests its errors (AggregateErrors of retries, of brokers, causes): one line
 * with the distinct messages, outermost first, and the protocol error ids.
 */
export function summarize(error: unknown): ErrorSummary {
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

/** Whether the client said the topic does not exist (a probe counts that as fine). */
export function isUnknownTopic(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('Unknown topic ')
}
