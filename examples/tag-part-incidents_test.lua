-- Tests of tag-part-incidents.lua: runbook test examples/
describe("tag-part-incidents", function()
  before_each(function()
    given{
      incidents = {
        { title = "Payments API latency", applies_to_parts = { "PROD-2" }, tags = { "network" } },
        { title = "Refunds stuck", applies_to_parts = { "PROD-2" }, tags = { "database" } },
        { title = "Checkout 502s", applies_to_parts = { "PROD-1" } },
      },
    }
  end)

  it("adds the tag to every incident of the part, keeping the tags it has", function()
    local result = run{ args = { part = "PROD-2", tag = "database" } }
    assert.exit(result, 0)
    assert.changes(result, {
      { incident = "INC-1", field = "tags", before = { "network" }, after = { "network", "database" } },
    })
  end)

  it("plans nothing for a part no incident touches", function()
    local result = run{ args = { part = "PROD-3", tag = "database" }, dry_run = true }
    assert.exit(result, 0)
    assert.no_changes(result)
    assert.contains(result.stdout, "dry run: 0 changes planned, nothing sent")
  end)

  it("waits out a 429 and tags the incident once", function()
    local result = run{ args = { part = "PROD-2", tag = "database" },
                        faults = { { fault = 429, operation = "incidents.update", times = 1, retry_after = 1 } } }
    assert.exit(result, 0)
    assert.equal(1, #result.changes)
    assert.has_record(result.logs, { level = "info", source = "devrev" })
  end)
end)
