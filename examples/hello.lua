-- A first runbook: reads its parameters, uses a helper module from lib/, prints a summary.
--   runbook run examples/hello.lua --arg service=checkout --arg minutes=30
local format = require("lib.format")

local service = runbook.args.service or "every service"
local minutes = tonumber(runbook.args.minutes or "30")
if not minutes or minutes <= 0 then
  error("minutes must be a positive number, got '" .. tostring(runbook.args.minutes) .. "'")
end

local deadline = os.time() + minutes * 60
print(format.heading("On-call chores for " .. service))
print(format.item("escalate sev-2s unacknowledged for " .. minutes .. " minutes"))
print(format.item("next check due by " .. os.date("!%Y-%m-%dT%H:%M:%SZ", deadline)))
