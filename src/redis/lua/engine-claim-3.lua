--[[
  An engine's poll takes the next job of its tenant's engine queue (lowest rank first), or
  the job it already holds (a poll whose answer was lost: it is handed out again).

  KEYS[1] P:engine:<id>                      the engine hash
  KEYS[2] P:t:<t>:engine-queue:<backend>     the tenant's engine queue ("<job id>|<attempt>")
  KEYS[3] P:engines:claims:<backend>         job id → "<engine id>|<attempt>"

  ARGV[1] the engine id
  ARGV[2] now (ms)

  Returns "<job id>|<attempt>", '' when the queue is empty, 'stop' when the engine takes no
  more work (stopping, ended, or gone).
]]
local state = redis.call('HGET', KEYS[1], 'state')
if state ~= 'ready' and state ~= 'busy' then return 'stop' end
local current = redis.call('HGET', KEYS[1], 'job')
if current and current ~= '' then return current end
local popped = redis.call('ZPOPMIN', KEYS[2])
if #popped == 0 then
  if state == 'busy' then redis.call('HSET', KEYS[1], 'state', 'ready') end
  return ''
end
local member = popped[1]
local jobId, attempt = string.match(member, '^(.*)|(%d+)$')
redis.call('HSET', KEYS[3], jobId, ARGV[1] .. '|' .. attempt)
redis.call('HSET', KEYS[1], 'state', 'busy', 'job', member, 'jobSince', ARGV[2])
return member
