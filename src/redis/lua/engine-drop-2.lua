--[[
  Gives up a claim an engine cannot run (the job moved on: cancelled, ended, another
  attempt): the claim goes, and the engine is free again if it still holds that job.

  KEYS[1] P:engine:<id>                 the engine hash
  KEYS[2] P:engines:claims:<backend>    job id → "<engine id>|<attempt>"

  ARGV[1] the job id
  ARGV[2] the claim's member ("<job id>|<attempt>")

  Returns 1.
]]
redis.call('HDEL', KEYS[2], ARGV[1])
if redis.call('HGET', KEYS[1], 'job') == ARGV[2] then
  redis.call('HSET', KEYS[1], 'job', '')
  if redis.call('HGET', KEYS[1], 'state') == 'busy' then
    redis.call('HSET', KEYS[1], 'state', 'ready')
  end
end
return 1
