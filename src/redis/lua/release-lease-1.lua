--[[
  Gives a lease back (the relay's, when it closes), if the caller still holds it.

  KEYS[1] P:relay:<sink>:lock   the lease: its holder's token, with a TTL

  ARGV[1] the caller's token

  Returns 1 when released, 0 when the lease was gone or another's.
]]
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
