--[[
  Records a dataset unless its bytes (its id) are known already.

  KEYS[1] P:dataset:<sha256>   the record
  KEYS[2] P:datasets           index of every dataset

  ARGV[1] the record (JSON)
  ARGV[2] its index member, "<createdAt ms, 15 digits>|<sha256>"

  Returns {1, record} when created, {0, existing record} when the bytes were known.
]]
if redis.call('SET', KEYS[1], ARGV[1], 'NX') then
  redis.call('ZADD', KEYS[2], 0, ARGV[2])
  return {1, ARGV[1]}
end
return {0, redis.call('GET', KEYS[1])}
