--[[
  Takes a live slot of a backend for a job when fewer than the backend's cap are taken
  and its tenant holds fewer than its own cap.

  KEYS[1] P:live:<backend>   the backend's live set
  KEYS[2] P:t:<t>:live       the tenant's live set

  ARGV[1] the job id
  ARGV[2] the backend's cap (live batches allowed at once)
  ARGV[3] the tenant's cap (maxLiveJobs)

  Returns 1 when the job holds a slot (taken now or before), 0 at the backend's cap, -1
  at the tenant's.
]]
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then
  redis.call('SADD', KEYS[2], ARGV[1])
  return 1
end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
if redis.call('SCARD', KEYS[2]) >= tonumber(ARGV[3]) then return -1 end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[1])
return 1
