--- @name reassign-owner
--- @changes owned_by
--- @description Move every incident owned by one user to another.
--- @param from string  the user whose incidents move (e.g. DEVU-2)
--- @param to string  the user who takes them (e.g. DEVU-4)
-- Move every incident owned by one user to another (someone left, or went on leave). Other
-- owners of an incident stay.
--   runbook run examples/reassign-owner.lua --arg from=DEVU-2 --arg to=DEVU-4
local from, to = runbook.args.from, runbook.args.to

-- Collect first, then change: updating while paging could shift the pages.
local owned = {}
for inc in incident.list{ owned_by = {from} } do owned[#owned + 1] = inc end

for _, inc in ipairs(owned) do
  local owners, seen = {}, {}
  for _, user in ipairs(inc.owned_by) do
    local id = (user.display_id == from or user.id == from) and to or user.display_id
    if not seen[id] then
      owners[#owners + 1] = id
      seen[id] = true
    end
  end
  incident.update{ id = inc.display_id, owned_by = owners }
  print(string.format("%s  owned_by %s -> %s  %s", inc.display_id, from, table.concat(owners, ","), inc.title))
end
log.info("reassignment done", { moved = #owned, from = from, to = to })
