--[[
  emit_event(stream, envelope, data, minId): appends one CloudEvent to a tenant's event
  stream (field `ce`, the whole event as JSON) and trims what is older than the retention.

  stream    P:t:<t>:events
  envelope  the event without data (JSON, built by src/schemas/events.ts)
  data      a Lua table, or a JSON string (decoded first)
  minId     the oldest stream id to keep ("<ms>-0"); '' keeps everything
]]
local function emit_event(stream, envelope, data, minId)
  local ce = cjson.decode(envelope)
  if type(data) == 'string' then data = cjson.decode(data) end
  ce['data'] = data
  if minId ~= '' then
    return redis.call('XADD', stream, 'MINID', minId, '*', 'ce', cjson.encode(ce))
  end
  return redis.call('XADD', stream, '*', 'ce', cjson.encode(ce))
end
