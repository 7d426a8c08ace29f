-- Tests of reassign-owner.lua: runbook test examples/
describe("reassign-owner", function()
  before_each(function()
    given{
      incidents = {
        { title = "Payments API latency", severity = 2, owned_by = { "DEVU-2" } },
        { title = "Checkout 502s", severity = 1, owned_by = { "DEVU-2", "DEVU-3" } },
        { title = "Search slow", severity = 3, owned_by = { "DEVU-3" } },
      },
    }
  end)

  it("moves every incident of one user to another, keeping the other owners", function()
    local result = run{ args = { from = "DEVU-2", to = "DEVU-4" } }
    assert.exit(result, 0)
    assert.changes(result, {
      { incident = "INC-1", field = "owned_by", before = { "DEVU-2" }, after = { "DEVU-4" } },
      { incident = "INC-2", field = "owned_by", before = { "DEVU-2", "DEVU-3" }, after = { "DEVU-4", "DEVU-3" } },
    }, { any_order = true })
  end)

  it("changes nothing for a user who owns nothing", function()
    local result = run{ args = { from = "DEVU-5", to = "DEVU-4" } }
    assert.exit(result, 0)
    assert.no_changes(result)
  end)

  it("stops at the first update a 500 keeps failing, with the earlier one done", function()
    local result = run{ args = { from = "DEVU-2", to = "DEVU-4" },
                        faults = { { fault = 500, operation = "incidents.update", after = 1 } } }
    assert.exit(result, 69)
    assert.changes(result, { { incident = "INC-1", field = "owned_by", after = { "DEVU-4" } } })
    assert.same({ "DEVU-2", "DEVU-3" }, { sandbox.incident("INC-2").owned_by[1].display_id, sandbox.incident("INC-2").owned_by[2].display_id })
  end)
end)
