--- @changes title
incident.update{ id = "INC-1", title = "Checkout returns 502 for EU customers (benchmarked)" }
