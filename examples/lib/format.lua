-- Helpers shared by the examples; `require("lib.format")` finds this file next to the script.
local format = {}

function format.heading(text)
  return text .. "\n" .. string.rep("=", utf8.len(text))
end

function format.item(text)
  return "- " .. text
end

return format
