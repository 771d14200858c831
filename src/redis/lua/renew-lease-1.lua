--[[
  Renews a lease (the relay's: one process per sink), if the caller still holds it.

  KEYS[1] P:relay:<sink>:lock   the lease: its holder's token, with a TTL

  ARGV[1] the caller's token
  ARGV[2] the new lifetime in milliseconds

  Returns 1 when renewed, 0 when the lease is gone or another holds it.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
