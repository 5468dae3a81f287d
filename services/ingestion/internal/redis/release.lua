-- release.lua: drop the caller's own claim (atomic compare-and-delete).
-- KEYS[1] idempotency key; ARGV[1] expected claim.
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
