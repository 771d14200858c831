--[[
  Registers a training job's model as the next version of its name, once per job.

  KEYS[1] P:models               index of model names
  KEYS[2] P:model:<name>         the name's versions (version n at index n-1)
  KEYS[3] P:model-job:<jobId>    the version this job became
  KEYS[4] P:t:<t>:events         the tenant's event stream

  ARGV[1] the model name
  ARGV[2] the version record (JSON) with "version":0, replaced by the number given
  ARGV[3] its `dev.sparkgate.model.version.registered` CloudEvent envelope, or '' when
          MLflow is the registry of record (its version is the event's: record-mlflow-run)
  ARGV[4] the oldest stream id the tenant's stream keeps, or ''

  Returns the job's version number (the existing one when it was registered before).
]]
--@include emit-event
local done = redis.call('GET', KEYS[3])
if done then return tonumber(done) end
local version = redis.call('RPUSH', KEYS[2], 'pending')
local record = string.gsub(ARGV[2], '"version":0', '"version":' .. version, 1)
redis.call('LSET', KEYS[2], version - 1, record)
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('SET', KEYS[3], version)
if ARGV[3] ~= '' then emit_event(KEYS[4], ARGV[3], record, ARGV[4]) end
return version
