-- POST /api/v1/auth/login as the storm's accounts, in turn; each wrk thread takes every
-- THREADS-th account, so no account is in flight twice (the per-account failed-login
-- limit would answer 429). The harness sets ACCOUNTS, THREADS and PASSWORD above.
local next_thread = 0
setup = function(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local counter = 0
request = function()
  local index = (counter * THREADS + (thread_id or 0)) % #ACCOUNTS + 1
  counter = counter + 1
  local body = '{"email":"' .. ACCOUNTS[index] .. '","password":"' .. PASSWORD .. '"}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json"}, body)
end
