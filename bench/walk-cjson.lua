-- lua5.4 with Debian's lua-cjson: decodes the pages of a walk (saved by requests_walk.py as
-- page-1.json, page-2.json, ... in the directory given as the first argument), as a script that
-- had the bytes in hand would; prints the number of incidents decoded.
local cjson = require("cjson")
local decode = cjson.decode
local directory = assert(arg[1], "usage: lua5.4 bench/walk-cjson.lua DIRECTORY")
local count, index = 0, 1
while true do
  local file = io.open(directory .. "/page-" .. index .. ".json", "rb")
  if not file then break end
  local page = decode(file:read("a"))
  file:close()
  count = count + #page.incidents
  index = index + 1
end
print(count)
