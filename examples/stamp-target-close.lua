--- @name stamp-target-close
--- @changes target_close_date
--- @description Stamp a target close date on open sev-1 incidents that have none.
--- @param hours number = 24  how long after creation the target is
-- Stamp a target close date on new sev-1 incidents that have none: `hours` after they were created.
--   runbook run examples/stamp-target-close.lua --arg hours=24
local hours = runbook.args.hours
assert(hours > 0, "hours must be positive")

local stamped = 0
for inc in incident.list{ severity = {1} } do
  local open = inc.stage and inc.stage.state and not inc.stage.state.is_final
  if open and inc.target_close_date == nil then
    local target = runbook.time(inc.created_date) + math.floor(hours * 3600)
    incident.update{ id = inc.display_id, target_close_date = target }
    print(string.format("%s  target_close_date -> %s  %s", inc.display_id, runbook.date(target), inc.title))
    stamped = stamped + 1
  end
end
log.info("stamping done", { stamped = stamped })
