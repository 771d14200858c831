--[[
  Moves a job to a new state when it is in one of the allowed ones: writes the fields,
  moves its index member from the old state's set to the new one's, takes or gives back
  its backend's and its tenant's live slot, keeps the tenant's set of jobs that have not
  ended, keeps the enqueue outbox (a job entering `queued` is in it until its queue entry
  is made), and appends the event(s) to the job's history and, as CloudEvents, to its
  tenant's event stream — all or nothing. With ARGV[14], only the job's attempt of that
  number moves: a slow actor that read an earlier attempt changes nothing.

  KEYS[1]     P:job:<id>              the job hash
  KEYS[2]     P:job:<id>:events       its event list
  KEYS[3]     P:live:<backend>        its backend's live set
  KEYS[4]     P:t:<t>:live            its tenant's live set
  KEYS[5]     P:t:<t>:active          its tenant's jobs that have not ended
  KEYS[6]     P:t:<t>:events          its tenant's event stream
  KEYS[7..14] P:jobs:state:<state>    the index of every state, in the order of ARGV[6]
  KEYS[15]    P:jobs:unqueued         the enqueue outbox: job id → ms it entered `queued`

  ARGV[1] the new state
  ARGV[2] allowed current states, comma-separated
  ARGV[3] now (ISO 8601), written to updatedAt
  ARGV[4] fields to write: a JSON object of strings; an empty string deletes the field
  ARGV[5] the states that hold a live slot, comma-separated
  ARGV[6] every state, comma-separated, in the order of KEYS[7..14]
  ARGV[7] the event JSON without "from" (only this script knows the current state)
  ARGV[8] a second event to append after it (a retry's failed → queued), or ''
  ARGV[9] the terminal states, comma-separated
  ARGV[10] the CloudEvent envelope (JSON, no data) of the event of ARGV[7]
  ARGV[11] the envelope of the event of ARGV[8], or ''
  ARGV[12] the oldest stream id the tenant's stream keeps ("<ms>-0"), or ''
  ARGV[13] now, in ms (the outbox score)
  ARGV[14] the attempt the caller acts on (the job's `attempts`), or '' for any

  Returns {1, previous state} on success, {0, current state or ''} when the job is in
  none of the allowed states (or does not exist), {0, 'attempt <n>'} when it is on
  another attempt than ARGV[14].
]]
--@include emit-event
local state = redis.call('HGET', KEYS[1], 'state')
if not state then return {0, ''} end
local function member(list, value)
  for s in string.gmatch(list, '[^,]+') do
    if s == value then return true end
  end
  return false
end
if not member(ARGV[2], state) then return {0, state} end
if ARGV[14] ~= '' then
  local attempt = redis.call('HGET', KEYS[1], 'attempts') or '0'
  if attempt ~= ARGV[14] then return {0, 'attempt ' .. attempt} end
end
local index = {}
local i = 7
for s in string.gmatch(ARGV[6], '[^,]+') do
  index[s] = KEYS[i]
  i = i + 1
end
for field, value in pairs(cjson.decode(ARGV[4])) do
  if value == '' then redis.call('HDEL', KEYS[1], field) else redis.call('HSET', KEYS[1], field, value) end
end
local to = ARGV[1]
redis.call('HSET', KEYS[1], 'state', to, 'updatedAt', ARGV[3])
local sortKey = redis.call('HGET', KEYS[1], 'sortKey')
redis.call('ZREM', index[state], sortKey)
redis.call('ZADD', index[to], 0, sortKey)
local id = redis.call('HGET', KEYS[1], 'id')
if member(ARGV[5], to) then
  redis.call('SADD', KEYS[3], id)
  redis.call('SADD', KEYS[4], id)
else
  redis.call('SREM', KEYS[3], id)
  redis.call('SREM', KEYS[4], id)
end
if member(ARGV[9], to) then redis.call('SREM', KEYS[5], id) else redis.call('SADD', KEYS[5], id) end
if to == 'queued' then
  redis.call('ZADD', KEYS[15], tonumber(ARGV[13]), id)
else
  redis.call('ZREM', KEYS[15], id)
end
local function json_field(name)
  local v = redis.call('HGET', KEYS[1], name)
  if v then return cjson.decode(v) end
  return cjson.null
end
local data = {
  jobId = id,
  name = redis.call('HGET', KEYS[1], 'name') or id,
  attempt = tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0'),
  backend = redis.call('HGET', KEYS[1], 'backend'),
  backendRef = json_field('backendRef'),
  error = json_field('error'),
}
local event = cjson.decode(ARGV[7])
local n = redis.call('RPUSH', KEYS[2], '{"from":"' .. state .. '",' .. string.sub(ARGV[7], 2))
data.state = event.to
data.previousState = state
data.reason = event.reason or cjson.null
data.sequence = n - 1
emit_event(KEYS[6], ARGV[10], data, ARGV[12])
if ARGV[8] ~= '' then
  local second = cjson.decode(ARGV[8])
  n = redis.call('RPUSH', KEYS[2], ARGV[8])
  data.state = second.to
  data.previousState = second.from
  data.reason = second.reason or cjson.null
  data.sequence = n - 1
  emit_event(KEYS[6], ARGV[11], data, ARGV[12])
end
return {1, state}
