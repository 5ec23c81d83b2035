-- POST /api/v1/books/{uid}/reviews with BODY, each request on a (writer, book) pair of its
-- own: a review is unique per user and book. The pairs are lines "<writer> <book uid>" of
-- the file PAIRS; thread t of THREADS sends pairs START + t, START + t + THREADS, ..., and
-- the harness moves START past the pairs of each run (threads need not keep pace: past
-- THREADS times the run's requests). TOKENS holds each writer's access token, PREFIX the
-- path up to the uid. The harness sets these above.
local next_thread = 0
setup = function(thread)
  thread:set("thread_id", next_thread)
  next_thread = next_thread + 1
end

local pairs_ = {}
init = function(args)
  for line in io.lines(PAIRS) do
    local writer, book = line:match("(%d+) (%S+)")
    pairs_[#pairs_ + 1] = {tonumber(writer), book}
  end
end

local counter = 0
request = function()
  local pair = pairs_[(START + counter * THREADS + (thread_id or 0)) % #pairs_ + 1]
  counter = counter + 1
  local headers = {["Content-Type"] = "application/json",
                   ["Authorization"] = "Bearer " .. TOKENS[pair[1]]}
  return wrk.format("POST", PREFIX .. pair[2] .. "/reviews", headers, BODY)
end
