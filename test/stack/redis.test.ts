import t from 'tap'
import { Redis } from 'ioredis'
import { testConfig } from '../helpers/stack.js'

t.test('the stack Redis answers and keeps an append-only file', async (t) => {
  const config = testConfig()
  const redis = new Redis(config.SPARKGATE_REDIS_URL, { lazyConnect: true })
  t.teardown(() => redis.disconnect())
  await redis.connect()
  t.equal(await redis.ping(), 'PONG')
  t.same(await redis.config('GET', 'appendonly'), ['appendonly', 'yes'], 'AOF is on')
  // a 202 is on disk: Redis fsyncs the AOF before it replies (issue 14, window 10)
  t.same(await redis.config('GET', 'appendfsync'), ['appendfsync', 'always'])
  // BullMQ needs keys never evicted
  t.same(await redis.config('GET', 'maxmemory-policy'), ['maxmemory-policy', 'noeviction'])
  const key = `${config.SPARKGATE_REDIS_PREFIX}:probe`
  await redis.set(key, 'v', 'EX', 60)
  t.equal(await redis.get(key), 'v', 'a write reads back')
  await redis.del(key)
})
