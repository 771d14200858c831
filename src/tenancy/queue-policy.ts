/**
 * The YARN queue rule of a tenant's policy — a pure decision, no I/O.
 *
 * A job runs in one of its tenant's `yarnQueues` (the first when it names none). The
 * queue reaches the cluster only through the job's `queue` field (Livy's `queue`,
 * spark-submit's `--queue`): `spark.yarn.queue` in a job's conf is refused by the conf
 * rules (conf-policy.ts), even when an admin names it in `confAllow`, so that no second
 * door bypasses this check.
 */
import type { Policy, PolicyEntry } from './policy.js'

/** Checks a job's `queue` (undefined: the policy's default) against the tenant's yarnQueues. */
export function checkQueue(
  queue: string | undefined,
  policy: Pick<Policy, 'yarnQueues'>,
  field = 'body.queue',
): PolicyEntry[] {
  if (queue === undefined || policy.yarnQueues.includes(queue)) return []
  const allowed = policy.yarnQueues.join(', ')
  return [
    {
      field,
      rule: 'queue-policy',
      message: `is not a YARN queue of the tenant's policy; allowed: ${allowed} (see GET /v1/me policy.yarnQueues)`,
    },
  ]
}
