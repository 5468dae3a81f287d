-- begin.lua: one round trip at the start of an ingestion: the org's rate
-- limit (GCRA), the idempotency look-up, and, for a valid body, the claim
-- (SET NX PX with the owner's token) plus the sender's velocity count.
-- Redis runs a script atomically, so no other client can claim or complete
-- the key between the look-up and the SET NX. All keys share the {org} slot.
-- KEYS[1] rate key, KEYS[2] idempotency key, KEYS[3] velocity key (or "").
-- ARGV[1] emission interval (µs), ARGV[2] burst, ARGV[3] claim value,
-- ARGV[4] lease (ms), ARGV[5] claim? ("1"/"0"), ARGV[6] velocity member,
-- ARGV[7] velocity window (ms).
-- Returns {"limited", retry_after_us} | {"found", value, pttl_ms} |
-- {"absent"} (check only) | {"claimed", velocity_count}.
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
if ARGV[5] ~= '1' then
  return {'absent'}
end
redis.call('SET', KEYS[2], ARGV[3], 'NX', 'PX', ARGV[4])

local count = 0
if KEYS[3] ~= '' then
  local now_ms = math.floor(now / 1000)
  local window = tonumber(ARGV[7])
  redis.call('ZADD', KEYS[3], now_ms, ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', '(' .. string.format('%.0f', now_ms - window))
  count = redis.call('ZCARD', KEYS[3])
  redis.call('PEXPIRE', KEYS[3], window + 1000)
end
return {'claimed', tostring(count)}
