--- @name escalate-unacknowledged
--- @changes severity, stage, comment
--- @description Escalate incidents nobody acknowledged: one severity up, to the "acknowledged" stage, with a comment on the incident.
--- @param minutes integer = 30  minutes since creation without acknowledgement
--- @param severity integer = 2  the severity to escalate (1 to 3)
--- @claim 5m
-- Escalate incidents nobody acknowledged: every incident of the given severity still in the
-- "reported" stage, created more than `minutes` ago and never acknowledged, goes one severity up
-- (sev-2 to sev-1) and to the "acknowledged" stage, and gets a comment saying why, where the
-- responders look. An incident this runbook already escalated once (it carries the comment) is
-- left to the humans: rerunning never escalates or comments twice. Run on two hosts, each
-- incident is claimed before it is changed (@claim, a window of the 5-minute schedule): the host
-- that finds another's claim leaves the incident to it.
--   runbook run examples/escalate-unacknowledged.lua --arg minutes=30 --arg severity=2
local minutes, severity = runbook.args.minutes, runbook.args.severity
assert(minutes > 0, "minutes must be positive")
assert(severity >= 1 and severity <= 3, "severity must be 1, 2 or 3 (0 is already the highest)")

local LABEL = "runbook-escalated"

-- A severity's label ("Sev1"); a severity no incident has yet has only its id in a dry run.
local function sev(value)
  return value.label or ("severity " .. value.id)
end

local function already_escalated(id)
  for _ in incident.comments(id, { labels = { LABEL } }) do -- luacheck: ignore 512 (the first one is enough)
    return true
  end
  return false
end

local cutoff = runbook.now() - minutes * 60
local escalated = 0
for inc in incident.list{ severity = {severity}, stage = {"reported"} } do
  if inc.acknowledged_date == nil and runbook.time(inc.created_date) <= cutoff then
    if already_escalated(inc.display_id) then
      log.info("escalated before; leaving it to the responders", { incident = inc.display_id })
    else
      local updated, claimed = incident.update{
        id = inc.display_id,
        severity = severity - 1,
        stage = { stage = "acknowledged",
                  notes = "escalated by runbook: unacknowledged for " .. minutes .. " minutes" },
      }
      if updated then
        incident.comment(inc.display_id,
          string.format("Escalated: unacknowledged for %d min (%s -> %s)", minutes, sev(inc.severity), sev(updated.severity)),
          { labels = { LABEL } })
        print(string.format("%s  severity %s -> %s  %s", inc.display_id, sev(inc.severity), sev(updated.severity), inc.title))
        escalated = escalated + 1
      else
        log.info("another host escalates it", { incident = inc.display_id, why = claimed })
      end
    end
  end
end
log.info("escalation done", { escalated = escalated, minutes = minutes })
