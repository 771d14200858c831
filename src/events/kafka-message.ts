/**
 * One event as a Kafka message, in the CloudEvents Kafka binding's binary content mode
 * (cloudevents/spec v1.0.2, bindings/kafka-protocol-binding.md): the subject as key, the
 * data as the value, each other context attribute as a `ce_<attribute>` header.
 */
import type { MessageToProduce } from '@platformatic/kafka'
import type { CloudEvent } from '../schemas/events.js'

export type KafkaMessage = MessageToProduce<string, string, string, string>

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

/** About what a message weighs on the wire, to keep a send under the request cap. */
export function messageSize(m: KafkaMessage): number {
  let size = Buffer.byteLength(m.value ?? '') + Buffer.byteLength(m.key ?? '') + 70
  for (const [k, v] of Object.entries(m.headers ?? {}))
    size += Buffer.byteLength(k) + Buffer.byteLength(String(v)) + 4
  return size
}
