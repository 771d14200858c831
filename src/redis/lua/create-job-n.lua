--[[
  Accepts a job of a tenant in one step: records it queued, names it among the users of
  every dataset it reads, and puts it in the enqueue outbox — unless its idempotency key
  was used before, the tenant has as many jobs that have not ended as its quota allows, or
  a dataset it reads is gone (or being deleted). Nothing is written unless all of it is.

  KEYS[1] P:job:<id>                the job hash
  KEYS[2] P:job:<id>:events         its event list
  KEYS[3] P:jobs:all                index of every job
  KEYS[4] P:jobs:state:queued       index of queued jobs
  KEYS[5] P:idem:<sha256>           the idempotency record (only when ARGV[4] > 0)
  KEYS[6] P:t:<t>:jobs              index of the tenant's jobs
  KEYS[7] P:t:<t>:active            the tenant's jobs that have not ended
  KEYS[8] P:t:<t>:events            the tenant's event stream
  KEYS[9] P:jobs:unqueued           the enqueue outbox: job id → ms it entered `queued`
  KEYS[10..] pairs, one per dataset the job reads:
          P:t:<t>:dataset:<sha256>        its record
          P:t:<t>:dataset:<sha256>:jobs   the jobs that read it

  ARGV[1] the job's fields: a JSON object of string values
  ARGV[2] its index member, "<createdAt ms, 15 digits>|<id>"
  ARGV[3] its first event (JSON)
  ARGV[4] seconds the idempotency record lives; 0 = the request had no key
  ARGV[5] the idempotency record (JSON {jobId, bodyHash})
  ARGV[6] the tenant's quota of jobs that have not ended
  ARGV[7] the job id
  ARGV[8] its `dev.sparkgate.job.queued` CloudEvent envelope (JSON, no data)
  ARGV[9] the event's data (JSON)
  ARGV[10] the oldest stream id the tenant's stream keeps ("<ms>-0"), or ''
  ARGV[11] now, in ms (the outbox score)

  Returns {1, count} when the job was created (count: the tenant's jobs that had not ended
  before it), {0, record} with the record that the key already names, {-1, count} when
  the tenant is at its quota, {-2, n} when the n-th dataset (1-based) is gone.
]]
--@include emit-event
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  local existing = redis.call('GET', KEYS[5])
  if existing then return {0, existing} end
end
local active = redis.call('SCARD', KEYS[7])
if active >= tonumber(ARGV[6]) then return {-1, tostring(active)} end
local n = 0
for i = 10, #KEYS, 2 do
  n = n + 1
  local record = redis.call('GET', KEYS[i])
  if not record or cjson.decode(record).deleting then return {-2, tostring(n)} end
end
for field, value in pairs(cjson.decode(ARGV[1])) do
  redis.call('HSET', KEYS[1], field, value)
end
redis.call('ZADD', KEYS[3], 0, ARGV[2])
redis.call('ZADD', KEYS[4], 0, ARGV[2])
redis.call('ZADD', KEYS[6], 0, ARGV[2])
redis.call('SADD', KEYS[7], ARGV[7])
redis.call('RPUSH', KEYS[2], ARGV[3])
for i = 11, #KEYS, 2 do
  redis.call('SADD', KEYS[i], ARGV[7])
end
redis.call('ZADD', KEYS[9], tonumber(ARGV[11]), ARGV[7])
emit_event(KEYS[8], ARGV[8], ARGV[9], ARGV[10])
if ttl > 0 then redis.call('SET', KEYS[5], ARGV[5], 'EX', ttl) end
return {1, tostring(active)}
