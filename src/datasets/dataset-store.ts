/**
 * Dataset records in Redis, per tenant. A dataset is content-addressed: its id is the
 * SHA-256 of its bytes, so the same bytes uploaded twice by one tenant are one dataset
 * (two tenants' uploads of the same bytes are two datasets: nothing is shared). Records
 * are created only once the bytes sit at their final path in their store, atomically with the
 * tenant's storage count, so concurrent uploads of the same bytes yield one record.
 * Key names: src/redis/keys.ts.
 */
import type { Redis } from 'ioredis'
import { DATASET_ID } from '../schemas/common.js'
import { eventEnvelope } from '../schemas/events.js'
import { RedisKeys } from '../redis/keys.js'
import { encodeCursor, member, memberId, streamMinId, upperBound } from '../redis/paging.js'
import { RedisScripts } from '../redis/scripts.js'
import type { Dataset } from './dataset-schema.js'

/** A job output's registration: the dataset's id, or why it is not a dataset. */
export type OutputRegistration = { id: string } | { refused: string }

/** Which of these jobs still needs its datasets (has not ended); the job core decides. */
export type InUseRule = (jobIds: string[]) => Promise<string | undefined>

export class DatasetStore {
  private readonly keys: RedisKeys
  private readonly scripts: RedisScripts

  constructor(
    private readonly redis: Redis,
    readonly prefix: string,
    /** how long the tenant's event stream keeps an event (0: forever) */
    private readonly eventRetentionMs = 7 * 86_400_000,
  ) {
    this.keys = new RedisKeys(prefix)
    this.scripts = new RedisScripts(redis)
  }

  /**
   * Records a tenant's dataset unless its bytes are known to it already: then the existing
   * record. `overQuota` (with the bytes in use) when the tenant's quota would be passed.
   */
  async createIfAbsent(
    tenant: string,
    dataset: Dataset,
    quotaBytes: number,
  ): Promise<{ dataset: Dataset; created: boolean } | { overQuota: number } | { deleting: true }> {
    const k = this.keys.of(tenant)
    const [created, json] = await this.scripts.run(
      'create-dataset',
      [k.dataset(dataset.id), k.datasets(), k.datasetBytes(), k.events()],
      [
        JSON.stringify(dataset),
        member(dataset.createdAt, dataset.id),
        dataset.size,
        quotaBytes,
        JSON.stringify(eventEnvelope(tenant, 'dev.sparkgate.dataset.created', dataset.id)),
        streamMinId(this.eventRetentionMs),
      ],
    )
    if (created === -1) return { overQuota: Number(json) }
    if (created === -2) return { deleting: true }
    return { dataset: JSON.parse(json) as Dataset, created: created === 1 }
  }

  /** Bytes of the tenant's datasets. */
  async bytesUsed(tenant: string): Promise<number> {
    return Number((await this.redis.get(this.keys.of(tenant).datasetBytes())) ?? 0)
  }

  /** The dataset; none while it is being deleted (unless `deleting` is asked for). */
  async get(
    tenant: string,
    id: string,
    options: { deleting?: boolean } = {},
  ): Promise<Dataset | undefined> {
    if (!DATASET_ID.test(id)) return undefined
    const json = await this.redis.get(this.keys.of(tenant).dataset(id))
    if (!json) return undefined
    const record = JSON.parse(json) as Dataset & { deleting?: boolean }
    if (record.deleting && !options.deleting) return undefined
    delete record.deleting
    return this.withCopies(tenant, [record]).then(([d]) => d)
  }

  /** The records with the URIs of their copies in other stores, when they have some. */
  private async withCopies(tenant: string, datasets: Dataset[]): Promise<Dataset[]> {
    if (datasets.length === 0) return datasets
    const k = this.keys.of(tenant)
    const pipe = this.redis.pipeline()
    for (const d of datasets) pipe.hvals(k.datasetCopies(d.id))
    const copies = (await pipe.exec()) ?? []
    return datasets.map((d, i) => {
      const uris = (copies[i]?.[1] as string[] | undefined) ?? []
      return uris.length > 0 ? { ...d, copies: uris.sort() } : d
    })
  }

  /** Records the copy of a dataset in another store (its id: the store's root URI). */
  async addCopy(tenant: string, id: string, storeId: string, uri: string): Promise<void> {
    await this.redis.hset(this.keys.of(tenant).datasetCopies(id), storeId, uri)
  }

  /** The copies of a dataset: store id → URI. */
  async copies(tenant: string, id: string): Promise<Record<string, string>> {
    return this.redis.hgetall(this.keys.of(tenant).datasetCopies(id))
  }

  /** Newest first, with an opaque cursor. */
  async list(
    tenant: string,
    limit: number,
    cursor?: string,
  ): Promise<{ items: Dataset[]; nextCursor?: string }> {
    const k = this.keys.of(tenant)
    const members = await this.redis.zrevrangebylex(
      k.datasets(),
      upperBound(cursor, DATASET_ID),
      '-',
      'LIMIT',
      0,
      limit + 1,
    )
    const page = members.slice(0, limit)
    const ids = page.map(memberId)
    const values = ids.length ? await this.redis.mget(ids.map((id) => k.dataset(id))) : []
    const items = await this.withCopies(
      tenant,
      values
        .filter((v): v is string => v !== null)
        .map((v) => JSON.parse(v) as Dataset & { deleting?: boolean })
        .filter((d) => !d.deleting),
    )
    const more = members.length > limit
    return { items, ...(more ? { nextCursor: encodeCursor(page.at(-1)!) } : {}) }
  }

  /**
   * Marks the record `deleting` unless `inUse` names one of its jobs: marked (also when a
   * delete cut short had marked it), missing, or the id of a job that has not ended. The
   * check and the mark are tied by the size of the job set: a job added in between makes
   * it check again. The caller then removes the files, then `forget()`s the record.
   */
  async delete(
    tenant: string,
    dataset: Dataset,
    inUse: InUseRule,
  ): Promise<{ deleted: true } | { deleted: false; liveJob?: string }> {
    const k = this.keys.of(tenant)
    for (;;) {
      const users = await this.redis.smembers(k.datasetJobs(dataset.id))
      const liveJob = await inUse(users)
      if (liveJob) return { deleted: false, liveJob }
      const code = await this.scripts.run(
        'delete-dataset',
        [
          k.dataset(dataset.id),
          k.datasetJobs(dataset.id),
          k.datasets(),
          k.datasetBytes(),
          k.events(),
        ],
        [
          member(dataset.createdAt, dataset.id),
          users.length,
          dataset.size,
          JSON.stringify(eventEnvelope(tenant, 'dev.sparkgate.dataset.deleted', dataset.id)),
          streamMinId(this.eventRetentionMs),
        ],
      )
      if (code === 1 || code === 2) return { deleted: true }
      if (code === 0) return { deleted: false }
    }
  }

  /**
   * What became of a job's output: the dataset it was registered as, or why it was not
   * (`refused`). Written once the registration is decided; undefined until then.
   */
  async outputOf(jobId: string): Promise<OutputRegistration | undefined> {
    const json = await this.redis.get(this.keys.datasetOfJob(jobId))
    return json === null ? undefined : (JSON.parse(json) as OutputRegistration)
  }

  async setOutput(jobId: string, registration: OutputRegistration): Promise<void> {
    await this.redis.set(this.keys.datasetOfJob(jobId), JSON.stringify(registration))
  }

  /** Of these job ids, the ones whose output registration is not decided. */
  async outputsUndecided(jobIds: string[]): Promise<string[]> {
    if (jobIds.length === 0) return []
    const done = await this.redis.mget(jobIds.map((id) => this.keys.datasetOfJob(id)))
    return jobIds.filter((_, i) => done[i] === null)
  }

  /** The last step of a delete, once the files are gone: the record and its job set. */
  async forget(tenant: string, id: string): Promise<void> {
    const k = this.keys.of(tenant)
    await this.redis.del(k.dataset(id), k.datasetJobs(id), k.datasetCopies(id))
  }
}
