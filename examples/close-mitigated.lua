--- @name close-mitigated
--- @changes stage
--- @description Close incidents mitigated more than `hours` ago.
--- @param hours number = 24  how long ago they were mitigated
--- @param stage string = resolved  the closed stage to move them to
-- Close incidents mitigated more than `hours` ago: move them to the closed stage (default
-- "resolved"), which sets their actual close date.
--   runbook run examples/close-mitigated.lua --arg hours=24 --arg stage=resolved
local hours, closed_stage = runbook.args.hours, runbook.args.stage
assert(hours > 0, "hours must be positive")

local cutoff = runbook.now() - math.floor(hours * 3600)
local closed = 0
for inc in incident.list{ stage = {"mitigated"}, mitigated_date = { before = cutoff } } do
  incident.update{ id = inc.display_id,
                   stage = { stage = closed_stage, notes = "closed by runbook: mitigated over " .. hours .. " hours ago" } }
  print(string.format("%s  stage %s -> %s  %s", inc.display_id, inc.stage.stage.name, closed_stage, inc.title))
  closed = closed + 1
end
log.info("closing done", { closed = closed })
