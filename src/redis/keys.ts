/**
 * Every Redis key name of the gateway, built in one place (prefix P =
 * SPARKGATE_REDIS_PREFIX). Scripts get each key they touch from here, through KEYS.
 *
 *   P:job:<id>               hash: state, spec, name, backend, timestamps, backendRef, error…
 *   P:job:<id>:events        list of JSON events {at, from, to, reason}
 *   P:jobs:all               sorted set (score 0) of "<createdAt ms, 15 digits>|<id>"
 *   P:jobs:state:<state>     the same members, one set per state
 *   P:live:<backend>         set of job ids holding a live slot of that backend (the cap)
 *   P:idem:<sha256 of key>   idempotency record {jobId, bodyHash}, with a TTL
 *   P:dataset:<sha256>       JSON record of a dataset
 *   P:dataset:<sha256>:jobs  ids of the jobs that read it (a DELETE waits for them)
 *   P:datasets               sorted set (score 0) of "<createdAt ms, 15 digits>|<sha256>"
 *   P:models                 sorted set (lex) of model names
 *   P:model:<name>           list of version JSON records, version n at index n-1
 *   P:model-job:<jobId>      the version a training job became
 *   P:bull:…                 BullMQ's own keys (submit and tracker queues)
 *
 * With Redis Cluster, a prefix in braces (`{sparkgate}`) puts every key in one slot.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  private k(...parts: string[]) {
    return [this.prefix, ...parts].join(':')
  }

  job = (id: string) => this.k('job', id)
  jobEvents = (id: string) => this.k('job', id, 'events')
  jobsAll = () => this.k('jobs', 'all')
  jobsInState = (state: string) => this.k('jobs', 'state', state)
  live = (backend: string) => this.k('live', backend)
  idempotency = (keyHash: string) => this.k('idem', keyHash)

  dataset = (id: string) => this.k('dataset', id)
  datasetJobs = (id: string) => this.k('dataset', id, 'jobs')
  datasets = () => this.k('datasets')

  models = () => this.k('models')
  model = (name: string) => this.k('model', name)
  modelOfJob = (jobId: string) => this.k('model-job', jobId)

  /** BullMQ's prefix: its queues' keys live under it */
  bull = () => this.k('bull')
}
