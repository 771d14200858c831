--[[
  Registers a training job's model as the next version of its name, once per job.

  KEYS[1] P:models               index of model names
  KEYS[2] P:model:<name>         the name's versions (version n at index n-1)
  KEYS[3] P:model-job:<jobId>    the version this job became

  ARGV[1] the model name
  ARGV[2] the version record (JSON) with "version":0, replaced by the number given

  Returns the job's version number (the existing one when it was registered before).
]]
local done = redis.call('GET', KEYS[3])
if done then return tonumber(done) end
local version = redis.call('RPUSH', KEYS[2], 'pending')
local record = string.gsub(ARGV[2], '"version":0', '"version":' .. version, 1)
redis.call('LSET', KEYS[2], version - 1, record)
redis.call('ZADD', KEYS[1], 0, ARGV[1])
redis.call('SET', KEYS[3], version)
return version
