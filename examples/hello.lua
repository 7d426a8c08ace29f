--- @name hello
--- @description A first runbook: reads its parameters, uses a helper module from lib/, prints a summary.
--- @param service string = all  the service the chores are for
--- @param minutes integer = 30  the escalation threshold
-- A first runbook: reads its parameters, uses a helper module from lib/, prints a summary.
--   runbook run examples/hello.lua --arg service=checkout --arg minutes=30
local format = require("lib.format")

local service = runbook.args.service == "all" and "every service" or runbook.args.service
local minutes = runbook.args.minutes
if minutes <= 0 then
  error("minutes must be positive, got " .. minutes)
end

local deadline = os.time() + minutes * 60
print(format.heading("On-call chores for " .. service))
print(format.item("escalate sev-2s unacknowledged for " .. minutes .. " minutes"))
print(format.item("next check due by " .. os.date("!%Y-%m-%dT%H:%M:%SZ", deadline)))
