--[[
  Records a new queued job of a tenant, unless its idempotency key was used before or the
  tenant has as many jobs that have not ended as its quota allows.

  KEYS[1] P:job:<id>                the job hash
  KEYS[2] P:job:<id>:events         its event list
  KEYS[3] P:jobs:all                index of every job
  KEYS[4] P:jobs:state:queued       index of queued jobs
  KEYS[5] P:idem:<sha256>           the idempotency record (only when ARGV[4] > 0)
  KEYS[6] P:t:<t>:jobs              index of the tenant's jobs
  KEYS[7] P:t:<t>:active            the tenant's jobs that have not ended
  KEYS[8] P:t:<t>:events            the tenant's event stream

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

  Returns {1, count} when the job was created (count: the tenant's jobs that had not ended
  before it), {0, record} with the record that the key already names, or {-1, count}
  when the tenant is at its quota.
]]
--@include emit-event
local ttl = tonumber(ARGV[4])
if ttl > 0 then
  local existing = redis.call('GET', KEYS[5])
  if existing then return {0, existing} end
end
local active = redis.call('SCARD', KEYS[7])
if active >= tonumber(ARGV[6]) then return {-1, tostring(active)} end
for field, value in pairs(cjson.decode(ARGV[1])) do
  redis.call('HSET', KEYS[1], field, value)
end
redis.call('ZADD', KEYS[3], 0, ARGV[2])
redis.call('ZADD', KEYS[4], 0, ARGV[2])
redis.call('ZADD', KEYS[6], 0, ARGV[2])
redis.call('SADD', KEYS[7], ARGV[7])
redis.call('RPUSH', KEYS[2], ARGV[3])
emit_event(KEYS[8], ARGV[8], ARGV[9], ARGV[10])
if ttl > 0 then redis.call('SET', KEYS[5], ARGV[5], 'EX', ttl) end
return {1, tostring(active)}
