-- validate.lua resolves a session token hash to its record and slides the
-- idle expiry, in one round trip.
--
-- Atomicity: Redis runs a script to completion without interleaving any
-- other client's command. The read of the hash, the token comparison, the
-- expiry checks and the slide are therefore one step: a concurrent revoke
-- (DEL) lands either before (we answer "not found") or after (the session is
-- gone for the next request); the slide can never resurrect a deleted key,
-- and two gateways validating at once cannot both see a stale `seen`.
--
-- KEYS[1]  session hash key (<prefix>session:{<id>})
-- ARGV[1]  SHA-256 hex of the presented token
-- ARGV[2]  now, unix ms (the caller's clock, so tests can inject one)
-- ARGV[3]  refresh interval, ms: `seen` is rewritten only when older
--
-- Returns nil when the session is unknown, expired or the token hash does
-- not match; else { rec, seen } with seen in unix ms.

local v = redis.call('HMGET', KEYS[1], 'rec', 'th', 'abs', 'seen', 'idle')
local rec, th = v[1], v[2]
local abs, seen, idle = tonumber(v[3]), tonumber(v[4]), tonumber(v[5])
if not rec or not th or not abs or not seen or not idle then
  return nil
end

-- Compare the hashes without an early exit.
local want = ARGV[1]
if string.len(th) ~= string.len(want) then
  return nil
end
local diff = 0
for i = 1, string.len(want) do
  diff = bit.bor(diff, bit.bxor(string.byte(th, i), string.byte(want, i)))
end
if diff ~= 0 then
  return nil
end

local now = tonumber(ARGV[2])
if now >= abs or now - seen >= idle then
  redis.call('DEL', KEYS[1])
  return nil
end

if now - seen >= tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'seen', now)
  redis.call('PEXPIRE', KEYS[1], math.min(idle, abs - now))
  seen = now
end
return { rec, tostring(seen) }
