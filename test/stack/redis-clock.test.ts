/**
 * One clock for every replica (issue 14, window 11): job timestamps and the deadlines
 * measured from them follow Redis's TIME, not the host's clock. A process whose clock is
 * ten minutes off still writes and compares times on Redis's clock.
 */
import { Redis } from 'ioredis'
import t from 'tap'
import { JobStore } from '../../src/domain/job-store.js'
import { RedisClock } from '../../src/redis/clock.js'
import { testConfig, uniqueId } from '../helpers/stack.js'

const SKEW_MS = 10 * 60_000

async function redisNow(redis: Redis) {
  const [s, us] = await redis.time()
  return Number(s) * 1000 + Math.floor(Number(us) / 1000)
}

t.test('the clock learns its offset from Redis TIME', async (t) => {
  const redis = new Redis(testConfig().SPARKGATE_REDIS_URL)
  t.teardown(() => redis.disconnect())
  const clock = new RedisClock(redis)
  await clock.sync()
  t.ok(Math.abs(clock.offset) < 1000, `same host: offset ${clock.offset} ms`)
  t.ok(Math.abs(clock.now() - (await redisNow(redis))) < 1000)
})

t.test('a host clock ten minutes ahead: timestamps stay on Redis time', async (t) => {
  const config = testConfig()
  const redis = new Redis(config.SPARKGATE_REDIS_URL)
  t.teardown(() => redis.disconnect())
  const realNow = Date.now
  Date.now = () => realNow() + SKEW_MS
  t.teardown(() => {
    Date.now = realNow
  })

  const clock = new RedisClock(redis)
  await clock.sync()
  t.ok(Math.abs(clock.offset + SKEW_MS) < 1000, `offset ≈ -10 min (${clock.offset} ms)`)

  const store = new JobStore(redis, config.SPARKGATE_REDIS_PREFIX)
  const id = '00000000-0000-4000-8000-0000000000c1'
  const tenant = uniqueId('clock')
  const created = await store.create(
    id,
    { batch: { file: 'hdfs://nn/app.py' } },
    {
      tenant,
      maxActive: 10,
      backend: 'livy',
    },
  )
  if (!('job' in created)) throw new Error('not created')
  const redisTime = await redisNow(redis)
  const createdAt = Date.parse(created.job.createdAt)
  t.ok(
    Math.abs(createdAt - redisTime) < 2000,
    `createdAt on Redis time (${createdAt - redisTime} ms)`,
  )
  // the outbox grace is measured on the same clock: the new job is not "older" than 5 s
  t.same(await store.outbox(5000), [], 'the skew does not age the outbox')
  t.same(await store.outbox(0), [id], 'it is in the outbox')
  await store.transition(created.job, ['queued'], 'staging', { reason: 'test' })
  const updatedAt = Date.parse((await store.get(id))!.updatedAt)
  t.ok(Math.abs(updatedAt - (await redisNow(redis))) < 2000, 'a transition too')
  await redis.del(...(await redis.keys(`${config.SPARKGATE_REDIS_PREFIX}:*`)))
})
