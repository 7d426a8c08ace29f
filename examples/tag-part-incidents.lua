--- @name tag-part-incidents
--- @changes tags
--- @description Tag every incident that touches a part, keeping the tags it has.
--- @param part string  the part (e.g. PROD-2)
--- @param tag string  the tag's name or id (e.g. database)
-- Tag every incident that touches a part, keeping the tags it has.
--   runbook run examples/tag-part-incidents.lua --arg part=PROD-2 --arg tag=database
local part, tag = runbook.args.part, runbook.args.tag

local tagged = 0
for inc in incident.list{ applies_to_parts = {part} } do
  local tags, present = {}, false
  for _, existing in ipairs(inc.tags or {}) do
    tags[#tags + 1] = { tag_id = existing.tag.id, value = existing.value }
    if existing.tag.id == tag or existing.tag.name == tag or existing.tag.display_id == tag then present = true end
  end
  if not present then
    tags[#tags + 1] = { tag_id = tag }
    incident.update{ id = inc.display_id, tags = tags }
    print(string.format("%s  + tag %s  %s", inc.display_id, tag, inc.title))
    tagged = tagged + 1
  end
end
log.info("tagging done", { tagged = tagged, part = part, tag = tag })
