--[[
  Records a dataset of a tenant unless its bytes (its id) are known to it already, and
  unless the tenant's storage quota would be passed.

  KEYS[1] P:t:<t>:dataset:<sha256>   the record
  KEYS[2] P:t:<t>:datasets           index of the tenant's datasets
  KEYS[3] P:t:<t>:dataset-bytes      bytes of the tenant's datasets
  KEYS[4] P:t:<t>:events             the tenant's event stream

  ARGV[1] the record (JSON)
  ARGV[2] its index member, "<createdAt ms, 15 digits>|<sha256>"
  ARGV[3] its size in bytes
  ARGV[4] the tenant's quota of bytes
  ARGV[5] its `dev.sparkgate.dataset.created` CloudEvent envelope (data: the record)
  ARGV[6] the oldest stream id the tenant's stream keeps, or ''

  Returns {1, record} when created, {0, existing record} when the bytes were known,
  {-1, bytes in use} when the quota would be passed, {-2, ''} while a delete of these
  bytes removes their files.
]]
--@include emit-event
local existing = redis.call('GET', KEYS[1])
if existing then
  if cjson.decode(existing).deleting then return {-2, ''} end
  return {0, existing}
end
local used = tonumber(redis.call('GET', KEYS[3]) or '0')
if used + tonumber(ARGV[3]) > tonumber(ARGV[4]) then return {-1, tostring(used)} end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('ZADD', KEYS[2], 0, ARGV[2])
redis.call('INCRBY', KEYS[3], ARGV[3])
emit_event(KEYS[4], ARGV[5], ARGV[1], ARGV[6])
return {1, ARGV[1]}
