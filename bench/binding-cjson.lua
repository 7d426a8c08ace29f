-- lua5.4 with Debian's lua-cjson: the same tables encoded, without validation.
local cjson = require("cjson")
local encode = cjson.encode
local n = tonumber(os.getenv("N") or "100000")
local total = 0
for i = 1, n do
  total = total + #encode{
    id = "INC-" .. i, severity = 1, owned_by = { set = { "DEVU-7" } },
    stage = { stage = "acknowledged", notes = "escalated by runbook: unacknowledged for 30 minutes" },
    target_close_date = "2026-11-27T12:00:00Z", title = "Payments API latency above 2 s",
  }
end
print(total)
