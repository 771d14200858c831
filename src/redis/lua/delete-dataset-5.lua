--[[
  Starts the delete of a tenant's dataset, provided its set of jobs is still the one the
  caller checked (which of those jobs has ended is the job core's rule, applied by the
  caller; a job added since then makes the caller check again): the record stays, marked
  `deleting` — no job may name it, no upload may bring it back — until the caller has
  removed its files and then the record (a crash in between: a repeated DELETE finishes).
  It leaves the index and the storage count, and the deleted event is emitted, now.

  KEYS[1] P:t:<t>:dataset:<sha256>        the record
  KEYS[2] P:t:<t>:dataset:<sha256>:jobs   the jobs that read it
  KEYS[3] P:t:<t>:datasets                index of the tenant's datasets
  KEYS[4] P:t:<t>:dataset-bytes           bytes of the tenant's datasets
  KEYS[5] P:t:<t>:events                  the tenant's event stream

  ARGV[1] its index member
  ARGV[2] how many jobs the caller checked
  ARGV[3] its size in bytes
  ARGV[4] its `dev.sparkgate.dataset.deleted` CloudEvent envelope (data: the record)
  ARGV[5] the oldest stream id the tenant's stream keeps, or ''

  Returns 1 marked, 2 marked before (a delete cut short: finish it), 0 no such record,
  -1 the job set changed (check again).
]]
--@include emit-event
local record = redis.call('GET', KEYS[1])
if not record then return 0 end
local decoded = cjson.decode(record)
if decoded.deleting then return 2 end
if redis.call('SCARD', KEYS[2]) ~= tonumber(ARGV[2]) then return -1 end
decoded.deleting = true
redis.call('SET', KEYS[1], cjson.encode(decoded))
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('DECRBY', KEYS[4], ARGV[3])
emit_event(KEYS[5], ARGV[4], record, ARGV[5])
return 1
