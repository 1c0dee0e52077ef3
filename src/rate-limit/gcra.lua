-- One rate-limit decision, atomically (GCRA: the generic cell rate algorithm,
-- equivalent to a token bucket of `burst` tokens refilled at 1000/interval per second).
-- KEYS[1]  the bucket: one caller on one method
-- ARGV[1]  emission interval in ms (1000 / requestsPerSecond)
-- ARGV[2]  burst (bucket capacity), at least 1
-- Returns {1, 0} when allowed, {0, retry_after_ms} when not.
-- The clock is Redis's own, so every gateway shares one.
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + tonumber(now_parts[2]) / 1000
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new_tat = tat + interval
local allow_at = new_tat - burst * interval
if now < allow_at then
  return {0, math.ceil(allow_at - now)}
end
redis.call('SET', KEYS[1], string.format('%.3f', new_tat), 'PX', math.ceil(new_tat - now) + 1000)
return {1, 0}
