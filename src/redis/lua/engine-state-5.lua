--[[
  Moves a warm engine from one of `from` to `to` (compare-and-set), setting fields, with an
  event when one is given. An engine that ends (stopped, failed) gives back its live slot,
  its place among its tenant's engines and its token (the hash is removed: no call of it
  is taken any more).

  KEYS[1] P:engine:<id>               the engine hash
  KEYS[2] P:live:<backend>            the backend's live set
  KEYS[3] P:t:<t>:engines:<backend>   the tenant's live engines on the backend
  KEYS[4] P:engines:live:<backend>    the backend's live engines
  KEYS[5] P:t:<t>:events              the tenant's event stream

  ARGV[1] the engine id
  ARGV[2] the states it may be in, comma-separated
  ARGV[3] the state it goes to
  ARGV[4] fields to set (JSON object of strings)
  ARGV[5] the event's envelope (JSON), '' for none
  ARGV[6] the event's data (JSON)
  ARGV[7] the oldest stream id to keep ('' keeps all)

  Returns 1 when it moved, 0 when it was in none of `from` (or is not there).
]]
--@include emit-event
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return 0 end
local allowed = false
for s in string.gmatch(ARGV[2], '[^,]+') do
  if s == state then allowed = true end
end
if not allowed then return 0 end
redis.call('HSET', KEYS[1], 'state', ARGV[3])
local fields = cjson.decode(ARGV[4])
for k, v in pairs(fields) do redis.call('HSET', KEYS[1], k, v) end
if ARGV[3] == 'stopped' or ARGV[3] == 'failed' then
  redis.call('SREM', KEYS[2], 'engine:' .. ARGV[1])
  redis.call('SREM', KEYS[3], ARGV[1])
  redis.call('SREM', KEYS[4], ARGV[1])
  redis.call('HDEL', KEYS[1], 'tokenHash')
  -- an ended engine is shown for a week (GET /v1/engines), then forgotten
  redis.call('EXPIRE', KEYS[1], 7 * 24 * 3600)
end
if ARGV[5] ~= '' then emit_event(KEYS[5], ARGV[5], ARGV[6], ARGV[7]) end
return 1
