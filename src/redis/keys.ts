/**
 * Every Redis key name of the gateway, built in one place (prefix P =
 * SPARKGATE_REDIS_PREFIX). Scripts get each key they touch from here, through KEYS.
 *
 *   P:job:<id>               hash: tenant, state, spec, name, backend, timestamps, error…
 *   P:job:<id>:events        list of JSON events {at, from, to, reason}
 *   P:jobs:all               sorted set (score 0) of "<createdAt ms, 15 digits>|<id>"
 *   P:jobs:state:<state>     the same members, one set per state
 *   P:jobs:unqueued          sorted set: job id → ms it entered `queued`, until its queue
 *                            entry exists (the enqueue outbox; the tracker drains it)
 *   P:jobs:missing           hash: job id → tracker ticks in a row its batch was not found
 *   P:backends:seen          hash: backend name → ms a tracker that has it last ticked
 *   P:live:<backend>         set of job ids holding a live slot of that backend (the cap),
 *                            and "engine:<id>" of each warm engine that has not ended
 *   P:engine:<id>            hash: a warm engine (tenant, backend, state, its batch, token hash…)
 *   P:engines:all            sorted set (lex) of "<createdAt ms, 15 digits>|<engine id>"
 *   P:engines:live:<backend> ids of the backend's engines that have not ended
 *   P:engines:claims:<backend>  hash: job id → "<engine id>|<attempt>" of each job an engine runs
 *   P:engine-run:<jobId>     hash: how a job's attempt ended in an engine (outcome, log), with a TTL
 *   P:idem:<sha256>          idempotency record {jobId, bodyHash}, with a TTL; the hash is
 *                            of tenant and key, so two tenants' keys never meet
 *   P:model-job:<jobId>      the version a training job became
 *   P:mlflow-job:<jobId>     JSON of the MLflow run and model version a training job became
 *   P:mlflow-job:<jobId>:lock  which process is logging that run (a lease)
 *   P:tenants                sorted set (lex) of tenant ids
 *   P:tenant:<t>             JSON record of a tenant (cluster user, policy, quotas)
 *   P:tenant:<t>:keys        hash: key id → SHA-256 of the key
 *   P:apikey:<sha256>        JSON record of an API key {id, tenant, role, …}: only hashes
 *   P:admin-key              SHA-256 of the generated platform admin key
 *   P:audit                  stream of audit records
 *   P:t:<t>:jobs             the tenant's jobs, members as in P:jobs:all
 *   P:t:<t>:active           ids of the tenant's jobs that have not ended (queued quota)
 *   P:t:<t>:live             ids of the tenant's jobs holding a live slot (live quota)
 *   P:t:<t>:dataset:<sha256> JSON record of a dataset of the tenant (`deleting: true` while
 *                            its files are removed: no job may name it any more)
 *   P:t:<t>:dataset:<sha256>:jobs  ids of the jobs that read it (a DELETE waits for them)
 *   P:t:<t>:livy:seq|ids|jobs  the Livy-compatible API's batch ids: the next, job → id, id → job
 *   P:t:<t>:dataset:<sha256>:copies  hash: store id → URI of its copy in that store (a job on
 *                            a backend that reads another store ran from it)
 *   P:t:<t>:datasets         sorted set (score 0) of "<createdAt ms, 15 digits>|<sha256>"
 *   P:t:<t>:dataset-bytes    bytes of the tenant's datasets (the storage quota)
 *   P:t:<t>:models           sorted set (lex) of the tenant's model names
 *   P:t:<t>:events           stream of the tenant's CloudEvents (field `ce`), trimmed by age
 *   P:t:<t>:model:<name>     list of version JSON records, version n at index n-1
 *   P:webhook:<id>           JSON record of a webhook (url, types, status, secrets)
 *   P:webhook:<id>:pending   sorted set (lex) "<subject>|<stream id>|<event id>" of deliveries
 *                            not yet delivered or dead: a job's next event waits for its head
 *   P:webhooks               sorted set (lex) of every webhook id
 *   P:t:<t>:webhooks         sorted set (lex) of the tenant's webhook ids
 *   P:t:<t>:engines          sorted set (lex) of the tenant's engines, as P:engines:all
 *   P:t:<t>:engines:<backend>  ids of the tenant's engines on a backend that have not ended
 *   P:t:<t>:engine-queue:<backend>  sorted set: "<job id>|<attempt>" waiting for an engine, by rank
 *   P:relay:<sink>           hash: tenant → the stream id the sink (webhooks, kafka) has taken
 *   P:relay:<sink>:lock      which process relays to that sink (a lease, renewed)
 *   P:bull:…                 BullMQ's own keys (submit, tracker and webhook-<id> queues)
 *   P:rate:…                 @fastify/rate-limit's counters
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
  jobsUnqueued = () => this.k('jobs', 'unqueued')
  jobsMissing = () => this.k('jobs', 'missing')
  backendsSeen = () => this.k('backends', 'seen')
  live = (backend: string) => this.k('live', backend)
  idempotency = (keyHash: string) => this.k('idem', keyHash)

  engine = (id: string) => this.k('engine', id)
  enginesAll = () => this.k('engines', 'all')
  enginesLive = (backend: string) => this.k('engines', 'live', backend)
  engineClaims = (backend: string) => this.k('engines', 'claims', backend)
  engineRun = (jobId: string) => this.k('engine-run', jobId)

  modelOfJob = (jobId: string) => this.k('model-job', jobId)
  datasetOfJob = (jobId: string) => this.k('dataset-job', jobId)
  mlflowOfJob = (jobId: string) => this.k('mlflow-job', jobId)
  mlflowLock = (jobId: string) => this.k('mlflow-job', jobId, 'lock')

  tenants = () => this.k('tenants')
  tenant = (t: string) => this.k('tenant', t)
  tenantKeys = (t: string) => this.k('tenant', t, 'keys')
  apiKey = (sha256: string) => this.k('apikey', sha256)
  adminKey = () => this.k('admin-key')
  audit = () => this.k('audit')

  webhook = (id: string) => this.k('webhook', id)
  webhookPending = (id: string) => this.k('webhook', id, 'pending')
  webhooks = () => this.k('webhooks')
  relay = (sink: string) => this.k('relay', sink)
  relayLock = (sink: string) => this.k('relay', sink, 'lock')

  /** The keys of one tenant's jobs, datasets and models. */
  of(tenant: string) {
    const t = (...parts: string[]) => this.k('t', tenant, ...parts)
    return {
      jobs: () => t('jobs'),
      active: () => t('active'),
      live: () => t('live'),
      dataset: (id: string) => t('dataset', id),
      datasetJobs: (id: string) => t('dataset', id, 'jobs'),
      datasetCopies: (id: string) => t('dataset', id, 'copies'),
      livySeq: () => t('livy', 'seq'),
      livyIds: () => t('livy', 'ids'),
      livyJobs: () => t('livy', 'jobs'),
      datasets: () => t('datasets'),
      datasetBytes: () => t('dataset-bytes'),
      models: () => t('models'),
      model: (name: string) => t('model', name),
      events: () => t('events'),
      webhooks: () => t('webhooks'),
      engines: () => t('engines'),
      enginesLive: (backend: string) => t('engines', backend),
      engineQueue: (backend: string) => t('engine-queue', backend),
    }
  }

  /** @fastify/rate-limit's prefix */
  rate = () => this.k('rate', '')

  /** BullMQ's prefix: its queues' keys live under it */
  bull = () => this.k('bull')
}
