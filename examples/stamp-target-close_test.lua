-- Tests of stamp-target-close.lua: runbook test examples/
describe("stamp-target-close", function()
  before_each(function()
    given{
      now = "2026-11-26T12:00:00Z",
      incidents = {
        { title = "Checkout 502s", severity = 1, stage = "reported", created_date = "-2h" },
        { title = "Disk full", severity = 1, stage = "acknowledged", created_date = "-1h", target_close_date = "+4h" },
        { title = "Old outage", severity = 1, stage = "resolved", created_date = "-3d" },
        { title = "Search slow", severity = 2, stage = "reported", created_date = "-1h" },
      },
    }
  end)

  it("stamps open sev-1 incidents that have no target, hours after their creation", function()
    local result = run{ args = { hours = 24 } }
    assert.exit(result, 0)
    assert.changes(result, {
      { incident = "INC-1", field = "target_close_date", after = sandbox.date("+22h") },
    })
  end)

  it("leaves every incident alone once each has a target", function()
    assert.exit(run{ args = { hours = 24 } }, 0)
    local again = run{ args = { hours = 24 } }
    assert.exit(again, 0)
    assert.no_changes(again)
  end)

  it("fails with the error's type when a response breaks DevRev's schema", function()
    local result = run{ args = { hours = 24 }, faults = { { fault = "off-schema", operation = "incidents.list" } } }
    assert.exit(result, 1)
    assert.equal("malformed_response", result.error_type)
    assert.no_changes(result)
  end)
end)
