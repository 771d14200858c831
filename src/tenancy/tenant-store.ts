/**
 * Tenants and their API keys in Redis (key names: src/redis/keys.ts). A key is shown once,
 * when it is made; only its SHA-256 is stored. A key is random (192 bits), so a plain
 * SHA-256 is enough (no password hashing needed); the stored hash is looked up by the
 * hash of what the caller sent, then compared in constant time. Nothing is cached: a
 * revoked key fails on every replica from the next request on.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Redis } from 'ioredis'
import { errors } from '../errors.js'
import { RedisKeys } from '../redis/keys.js'
import { decodeCursor, encodeCursor } from '../redis/paging.js'
import { PLATFORM_TENANT, type Principal, type Role } from './access.js'
import {
  TENANT_ID,
  type ApiKey,
  type Quotas,
  type Tenant,
  type TenantCreate,
  type TenantPatch,
  type TenantPolicy,
} from './tenant-schema.js'

export const KEY_PREFIX = 'sgk_'

/** A new API key: `sgk_` and 32 base64url characters (192 random bits). */
export function newKey(): string {
  return KEY_PREFIX + randomBytes(24).toString('base64url')
}

export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex')
}

/** Constant-time equality of two hex SHA-256 digests. */
export function sameHash(a: string, b: string): boolean {
  const x = Buffer.from(a, 'hex')
  const y = Buffer.from(b, 'hex')
  return x.length === 32 && y.length === 32 && timingSafeEqual(x, y)
}

interface StoredKey extends ApiKey {
  hash: string
}

export interface TenantDefaults {
  quotas: Quotas
  /** the policy's server defaults (admin config); the rest of a new policy allows nothing extra */
  policy: Pick<TenantPolicy, 'yarnQueues' | 'engines'>
}

export type AuthResult =
  { ok: true; principal: Principal } | { ok: false; reason: 'unknown' | 'expired' }

const CURRENT_MS = 1000

export class TenantStore {
  private readonly keys: RedisKeys
  private readonly recent = new Map<string, { at: number; tenant: Promise<Tenant> }>()

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly defaults: TenantDefaults,
  ) {
    this.keys = new RedisKeys(prefix)
  }

  private build(id: string, input: Omit<TenantCreate, 'name'>, at: string): Tenant {
    const policy: TenantPolicy = {
      uriPrefixes: [],
      confAllow: [],
      ...this.defaults.policy,
      ...input.policy,
    }
    return {
      id,
      name: id,
      clusterUser: input.clusterUser ?? id,
      policy,
      quotas: { ...this.defaults.quotas, ...input.quotas },
      createdAt: at,
      updatedAt: at,
    }
  }

  /** A new tenant; 409 when the name is taken (or reserved). */
  async create(input: TenantCreate): Promise<Tenant> {
    if (input.name === PLATFORM_TENANT) throw errors.tenantExists(input.name)
    const tenant = this.build(input.name, input, new Date().toISOString())
    const ok = await this.redis.set(this.keys.tenant(tenant.id), JSON.stringify(tenant), 'NX')
    if (ok === null) throw errors.tenantExists(input.name)
    await this.redis.zadd(this.keys.tenants(), 0, tenant.id)
    return tenant
  }

  async get(id: string): Promise<Tenant | undefined> {
    if (!TENANT_ID.test(id)) return undefined
    const json = await this.redis.get(this.keys.tenant(id))
    // the platform tenant (the admin key's) exists from the start, stored once changed
    if (!json && id === PLATFORM_TENANT) return this.build(id, {}, new Date(0).toISOString())
    if (!json) return undefined
    const tenant = JSON.parse(json) as Tenant
    // quotas and policy fields added to the defaults later apply to tenants made before
    return {
      ...tenant,
      policy: { ...this.defaults.policy, ...tenant.policy },
      quotas: { ...this.defaults.quotas, ...tenant.quotas },
    }
  }

  async mustGet(id: string): Promise<Tenant> {
    const tenant = await this.get(id)
    if (!tenant) throw errors.tenantNotFound(id)
    return tenant
  }

  /**
   * The tenant as a request sees it: read at most once a second per process (a change of
   * policy or quotas reaches every replica within that second; keys are never cached).
   */
  current(id: string, now = Date.now()): Promise<Tenant> {
    const hit = this.recent.get(id)
    if (hit && now - hit.at < CURRENT_MS) return hit.tenant
    const tenant = this.mustGet(id)
    this.recent.set(id, { at: now, tenant })
    tenant.catch(() => this.recent.delete(id))
    if (this.recent.size > 10_000) this.recent.clear()
    return tenant
  }

  /** Changes a tenant's cluster user, policy or quotas (given fields only). */
  async update(id: string, patch: TenantPatch): Promise<Tenant> {
    const tenant = await this.mustGet(id)
    const next: Tenant = {
      ...tenant,
      ...(patch.clusterUser ? { clusterUser: patch.clusterUser } : {}),
      policy: { ...tenant.policy, ...patch.policy },
      quotas: { ...tenant.quotas, ...patch.quotas },
      updatedAt: new Date().toISOString(),
    }
    await this.redis.set(this.keys.tenant(id), JSON.stringify(next))
    this.recent.delete(id)
    return next
  }

  /**
   * Tenants by id, with a cursor (the last id of the page). The platform tenant is not in
   * the index (it exists without being stored): it is merged in at its place.
   */
  async list(limit: number, cursor?: string): Promise<{ items: Tenant[]; nextCursor?: string }> {
    const after = cursor === undefined ? '' : decodeCursor(cursor, TENANT_ID)
    const ids = await this.redis.zrangebylex(
      this.keys.tenants(),
      after ? `(${after}` : '-',
      '+',
      'LIMIT',
      0,
      limit + 1,
    )
    const merged =
      after < PLATFORM_TENANT && !ids.includes(PLATFORM_TENANT)
        ? [...ids, PLATFORM_TENANT].sort()
        : ids
    const page = merged.slice(0, limit)
    const items = (await Promise.all(page.map((id) => this.get(id)))).filter(
      (t): t is Tenant => t !== undefined,
    )
    const more = merged.length > limit
    return {
      items,
      ...(more ? { nextCursor: encodeCursor(page.at(-1)!) } : {}),
    }
  }

  /** A new key of a tenant: its record, and the key itself (shown once). */
  async createKey(
    tenant: string,
    input: { role: Role; name?: string; expiresAt?: string },
  ): Promise<{ record: ApiKey; key: string }> {
    await this.mustGet(tenant)
    const key = newKey()
    const hash = hashKey(key)
    const record: StoredKey = {
      id: `key_${randomBytes(8).toString('hex')}`,
      tenant,
      role: input.role,
      ...(input.name ? { name: input.name } : {}),
      hint: key.slice(0, KEY_PREFIX.length + 4),
      createdAt: new Date().toISOString(),
      ...(input.expiresAt ? { expiresAt: new Date(input.expiresAt).toISOString() } : {}),
      hash,
    }
    await this.redis
      .multi()
      .set(this.keys.apiKey(hash), JSON.stringify(record))
      .hset(this.keys.tenantKeys(tenant), record.id, hash)
      .exec()
    return { record: publicKey(record), key }
  }

  async listKeys(tenant: string): Promise<ApiKey[]> {
    await this.mustGet(tenant)
    const hashes = Object.values(await this.redis.hgetall(this.keys.tenantKeys(tenant)))
    if (hashes.length === 0) return []
    const values = await this.redis.mget(hashes.map((h) => this.keys.apiKey(h)))
    return values
      .filter((v): v is string => v !== null)
      .map((v) => publicKey(JSON.parse(v) as StoredKey))
      .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0))
  }

  /** Revokes a key at once; false when the tenant has no such key. */
  async revokeKey(tenant: string, keyId: string): Promise<boolean> {
    await this.mustGet(tenant)
    const hash = await this.redis.hget(this.keys.tenantKeys(tenant), keyId)
    if (!hash) return false
    await this.redis
      .multi()
      .del(this.keys.apiKey(hash))
      .hdel(this.keys.tenantKeys(tenant), keyId)
      .exec()
    return true
  }

  /** Who a presented key is, if anyone. */
  async authenticate(key: string, now = Date.now()): Promise<AuthResult> {
    if (!key.startsWith(KEY_PREFIX) || key.length > 128) return { ok: false, reason: 'unknown' }
    const hash = hashKey(key)
    const json = await this.redis.get(this.keys.apiKey(hash))
    if (!json) return { ok: false, reason: 'unknown' }
    const record = JSON.parse(json) as StoredKey
    if (!sameHash(record.hash, hash)) return { ok: false, reason: 'unknown' }
    if (record.expiresAt && Date.parse(record.expiresAt) <= now)
      return { ok: false, reason: 'expired' }
    return { ok: true, principal: { tenant: record.tenant, role: record.role, keyId: record.id } }
  }

  /**
   * The generated admin key's hash: the stored one, or `hash` when none was stored yet
   * (`claimed`: this replica stored it, so it prints the key).
   */
  async claimAdminHash(hash: string): Promise<{ hash: string; claimed: boolean }> {
    const ok = await this.redis.set(this.keys.adminKey(), hash, 'NX')
    if (ok !== null) return { hash, claimed: true }
    return { hash: (await this.redis.get(this.keys.adminKey()))!, claimed: false }
  }
}

function publicKey(record: StoredKey): ApiKey {
  const rest: Partial<StoredKey> = { ...record }
  delete rest.hash
  return rest as ApiKey
}
