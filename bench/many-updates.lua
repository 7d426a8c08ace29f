--- @param n integer = 2000            updates
--- @param concurrency integer = 8     calls in flight
--- @changes title
local items = {}
for i = 1, runbook.args.n do
  items[i] = { id = "INC-" .. (i % 12 + 1), title = "benchmark update " .. i }
end
for _, result in ipairs(incident.update_many(items, { concurrency = runbook.args.concurrency })) do
  assert(result.ok, result.error and result.error.message)
end
