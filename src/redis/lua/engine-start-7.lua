--[[
  Records a new warm engine in state `starting`, taking a live slot of its backend (an engine
  counts against the backend's cap like any batch) and one of its tenant's engines on that
  backend (the policy's `engines.max`), with its `engine.starting` event.

  KEYS[1] P:live:<backend>            the backend's live set (member "engine:<id>")
  KEYS[2] P:t:<t>:engines:<backend>   the tenant's live engines on the backend
  KEYS[3] P:engines:live:<backend>    the backend's live engines
  KEYS[4] P:engine:<id>               the engine hash
  KEYS[5] P:engines:all               every engine (lex "<ms>|<id>")
  KEYS[6] P:t:<t>:engines             the tenant's engines (lex "<ms>|<id>")
  KEYS[7] P:t:<t>:events              the tenant's event stream

  ARGV[1] the engine id
  ARGV[2] the backend's cap
  ARGV[3] the tenant's max engines on the backend
  ARGV[4] the engine's fields (JSON object of strings)
  ARGV[5] its member in the sorted sets
  ARGV[6] the event's envelope (JSON)
  ARGV[7] the event's data (JSON)
  ARGV[8] the oldest stream id to keep ('' keeps all)

  Returns 1 when recorded, 0 at the backend's cap, -1 at the tenant's max.
]]
--@include emit-event
local slot = 'engine:' .. ARGV[1]
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], slot)
redis.call('SADD', KEYS[2], ARGV[1])
redis.call('SADD', KEYS[3], ARGV[1])
local fields = cjson.decode(ARGV[4])
for k, v in pairs(fields) do redis.call('HSET', KEYS[4], k, v) end
redis.call('ZADD', KEYS[5], 0, ARGV[5])
redis.call('ZADD', KEYS[6], 0, ARGV[5])
emit_event(KEYS[7], ARGV[6], ARGV[7], ARGV[8])
return 1
