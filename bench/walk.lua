-- Walks every incident, page by page, keeping none: memory must stay flat.
local count = 0
for _ in incident.list{ limit = 100 } do count = count + 1 end
print(count)
