-- take.lua: read and clear the usage buffer in one atomic step, so a note
-- written concurrently is either taken now or kept for the next flush.
-- KEYS[1] usage hash.
local v = redis.call('HGETALL', KEYS[1])
redis.call('DEL', KEYS[1])
return v
