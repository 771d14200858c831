--[[
  Gives back a slot reserved by a job that then did not go live (it was cancelled, or
  another worker moved it first). A job that is live keeps its slot.

  KEYS[1] P:job:<id>          the job hash
  KEYS[2] P:live:<backend>    the backend's live set
  KEYS[3] P:t:<t>:live        the tenant's live set

  ARGV[1] the job id
  ARGV[2] the states that hold a live slot, comma-separated

  Returns 1 when the slot was given back, 0 when the job keeps it.
]]
local state = redis.call('HGET', KEYS[1], 'state')
if state then
  for s in string.gmatch(ARGV[2], '[^,]+') do
    if s == state then return 0 end
  end
end
redis.call('SREM', KEYS[2], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
return 1
