--- @name escalate-unacknowledged
--- @changes severity, stage
--- @description Escalate incidents nobody acknowledged: one severity up, to the "acknowledged" stage, with a note.
--- @param minutes integer = 30  minutes since creation without acknowledgement
--- @param severity integer = 2  the severity to escalate (1 to 3)
-- Escalate incidents nobody acknowledged: every incident of the given severity still in the
-- "reported" stage, created more than `minutes` ago and never acknowledged, goes one severity up
-- (sev-2 to sev-1) and to the "acknowledged" stage with a note saying why.
--   runbook run examples/escalate-unacknowledged.lua --arg minutes=30 --arg severity=2
local minutes, severity = runbook.args.minutes, runbook.args.severity
assert(minutes > 0, "minutes must be positive")
assert(severity >= 1 and severity <= 3, "severity must be 1, 2 or 3 (0 is already the highest)")

local cutoff = runbook.now() - minutes * 60
local escalated = 0
for inc in incident.list{ severity = {severity}, stage = {"reported"} } do
  if inc.acknowledged_date == nil and runbook.time(inc.created_date) <= cutoff then
    local updated = incident.update{
      id = inc.display_id,
      severity = severity - 1,
      stage = { stage = "acknowledged",
                notes = "escalated by runbook: unacknowledged for " .. minutes .. " minutes" },
    }
    print(string.format("%s  severity %s -> %s  %s", inc.display_id, inc.severity.label, updated.severity.label, inc.title))
    escalated = escalated + 1
  end
end
log.info("escalation done", { escalated = escalated, minutes = minutes })
