-- complete.lua: compare-and-set of an idempotency key from the owner's claim
-- to the final record. Atomic, so a claim taken over by another owner after
-- this one's lease lapsed is never overwritten. A key that vanished (lease
-- lapsed, nobody re-claimed) is written too: the transaction is committed.
-- KEYS[1] idempotency key; ARGV[1] expected claim, ARGV[2] record, ARGV[3] ttl (ms).
local v = redis.call('GET', KEYS[1])
if v == false or v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
  return 1
end
return 0
