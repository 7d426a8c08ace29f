-- Tests of close-mitigated.lua: runbook test examples/
describe("close-mitigated", function()
  before_each(function()
    given{
      now = "2026-11-26T12:00:00Z",
      incidents = {
        { title = "Disk full on db-3", severity = 1, stage = "mitigated", created_date = "-3d", mitigated_date = "-30h" },
        { title = "Search slow", severity = 2, stage = "mitigated", created_date = "-5h", mitigated_date = "-2h" },
        { title = "Login emails delayed", severity = 3, stage = "reported", created_date = "-2d" },
      },
    }
  end)

  it("closes what was mitigated more than a day ago, which stamps its close date", function()
    local result = run{ args = { hours = 24 } }
    assert.exit(result, 0)
    assert.changes(result, {
      { operation = "update", incident = "INC-1", field = "stage", before = "mitigated", after = "resolved" },
    })
    local closed = sandbox.incident("INC-1")
    assert.equal("resolved", closed.stage.stage.name)
    assert.equal(sandbox.date("now"), closed.actual_close_date)
    assert.equal("mitigated", sandbox.incident("INC-2").stage.stage.name)
  end)

  it("changes nothing when nothing was mitigated long enough ago", function()
    local result = run{ args = { hours = 48 } }
    assert.exit(result, 0)
    assert.no_changes(result)
    assert.equal("", result.stdout)
  end)

  it("retries through a 503 and closes the incident once", function()
    local result = run{ args = { hours = 24 }, faults = { { fault = 503, operation = "incidents.update", times = 1 } } }
    assert.exit(result, 0)
    assert.equal(1, #result.changes)
    assert.equal(2, result.calls[#result.calls].attempts)
  end)

  it("stops at DevRev's answer when the stage does not exist, with nothing changed", function()
    local result = run{ args = { hours = 24, stage = "closed-ish" } }
    assert.exit(result, 1)
    assert.equal("invalid_id", result.error_type)
    assert.no_changes(result)
  end)
end)
