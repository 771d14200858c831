--[[
  Records how a job's attempt ended in an engine — once: only the engine that holds the
  claim of that very attempt may (a late report of an engine given up on is refused) — and
  frees the engine for the next job.

  KEYS[1] P:engine:<id>                 the engine hash
  KEYS[2] P:engines:claims:<backend>    job id → "<engine id>|<attempt>"
  KEYS[3] P:engine-run:<jobId>          how the attempt ended

  ARGV[1] the engine id
  ARGV[2] the job id
  ARGV[3] the attempt
  ARGV[4] the run's fields (JSON object of strings)
  ARGV[5] the run record's TTL (seconds)
  ARGV[6] now (ms)

  Returns 1 when recorded, 0 when the claim is not this engine's for this attempt.
]]
if redis.call('HGET', KEYS[2], ARGV[2]) ~= ARGV[1] .. '|' .. ARGV[3] then return 0 end
redis.call('HDEL', KEYS[2], ARGV[2])
redis.call('DEL', KEYS[3])
local fields = cjson.decode(ARGV[4])
for k, v in pairs(fields) do redis.call('HSET', KEYS[3], k, v) end
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[5]))
if redis.call('HGET', KEYS[1], 'job') == ARGV[2] .. '|' .. ARGV[3] then
  redis.call('HSET', KEYS[1], 'job', '', 'idleSince', ARGV[6])
  redis.call('HINCRBY', KEYS[1], 'jobsServed', 1)
  if redis.call('HGET', KEYS[1], 'state') == 'busy' then
    redis.call('HSET', KEYS[1], 'state', 'ready')
  end
end
return 1
