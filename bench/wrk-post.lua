-- wrk: the request of serial-updates.lua, posted again and again.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("DEVREV_TOKEN")
wrk.body = '{"id":"INC-1","title":"benchmark update"}'
