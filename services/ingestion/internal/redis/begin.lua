-- begin.lua: the org's rate limit (GCRA) and the idempotency check-and-claim
-- of one ingestion. Redis runs a script atomically, so no other client can
-- claim or complete the key between the look-up and the SET NX below.
-- KEYS[1] rate key, KEYS[2] idempotency key (same {org} slot).
-- ARGV[1] emission interval (µs), ARGV[2] burst, ARGV[3] claim value,
-- ARGV[4] lease (ms).
-- Returns {"limited", retry_after_us} | {"found", value, pttl_ms} | {"claimed"}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {'limited', string.format('%.0f', allow_at - now)}
end
redis.call('SET', KEYS[1], string.format('%.0f', new_tat), 'PX', math.ceil((new_tat - now) / 1000) + 1)

local v = redis.call('GET', KEYS[2])
if v then
  return {'found', v, tostring(redis.call('PTTL', KEYS[2]))}
end
redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4])
return {'claimed'}
