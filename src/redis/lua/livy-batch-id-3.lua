--[[
  The Livy batch id of a job (the Livy-compatible API, /livy/batches): the one it has, or
  the tenant's next (0, 1, 2, …, as Livy numbers batches), recorded both ways in one step,
  so that a retried submission (the same job, by its Idempotency-Key) keeps its id.

  KEYS[1] P:t:<t>:livy:seq     the tenant's last id + 1 (INCR)
  KEYS[2] P:t:<t>:livy:ids     hash: job id → batch id
  KEYS[3] P:t:<t>:livy:jobs    hash: batch id → job id

  ARGV[1] the job id

  Returns the batch id.
]]
local id = redis.call('HGET', KEYS[2], ARGV[1])
if id then return tonumber(id) end
id = redis.call('INCR', KEYS[1]) - 1
redis.call('HSET', KEYS[2], ARGV[1], id)
redis.call('HSET', KEYS[3], id, ARGV[1])
return id
