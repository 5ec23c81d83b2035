-- Each connection waits before each request: a random number of milliseconds, uniform
-- around DELAY_MS (set by the harness above; it may be fractional), so that connections
-- do not fire in step and whole-millisecond timers still average out to DELAY_MS.
-- Rate ~ connections / (DELAY_MS + latency).
local seeded = false
delay = function()
  if not seeded then
    math.randomseed(os.time() + math.floor(os.clock() * 1000000))
    seeded = true
  end
  return math.floor(math.random() * 2 * DELAY_MS + 0.5)
end
