--[[
  Takes a live slot of a backend for a job when fewer than the cap are taken.

  KEYS[1] P:live:<backend>   the backend's live set

  ARGV[1] the job id
  ARGV[2] the cap (live batches allowed at once)

  Returns 1 when the job holds a slot (taken now or before), 0 at the cap.
]]
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
return 1
