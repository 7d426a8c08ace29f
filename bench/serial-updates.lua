--- @param n integer = 2000  updates, one after the other
--- @changes title
for i = 1, runbook.args.n do
  incident.update{ id = "INC-" .. (i % 12 + 1), title = "benchmark update " .. i }
end
