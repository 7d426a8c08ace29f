-- Tests of escalate-unacknowledged.lua: runbook test examples/
describe("escalate-unacknowledged", function()
  before_each(function()
    given{
      now = "2026-11-26T12:00:00Z",
      incidents = {
        { title = "Payments API latency above 2 s", severity = 2, stage = "reported", created_date = "-45m" },
        { title = "Search index lagging", severity = 2, stage = "reported", created_date = "-10m" },
        { title = "Checkout 502s", severity = 2, stage = "reported", created_date = "-50m", acknowledged_date = "-40m" },
        { title = "Login emails delayed", severity = 3, stage = "reported", created_date = "-2h" },
      },
    }
  end)

  it("escalates a sev-2 nobody acknowledged for 30 minutes and says why on the incident", function()
    local result = run{ args = { minutes = 30, severity = 2 } }
    assert.exit(result, 0)
    assert.changes(result, {
      { operation = "update", incident = "INC-1", field = "severity", before = "Sev2", after = "Sev1" },
      { operation = "update", incident = "INC-1", field = "stage", before = "reported", after = "acknowledged" },
      { operation = "comment", incident = "INC-1", after = "Escalated: unacknowledged for 30 min (Sev2 -> Sev1)" },
    })
    assert.comments(result, { { incident = "INC-1", labels = { "runbook-escalated" } } })
    assert.equal("Sev1", sandbox.incident("INC-1").severity.label)
    assert.matches("^INC%-1  severity Sev2 %-> Sev1", result.stdout)
    assert.has_record(result.logs, { level = "info", message = "escalation done", fields = { escalated = 1, minutes = 30 } })
  end)

  it("plans exactly the committed plan in a dry run", function()
    local result = run{ args = { minutes = 30 }, dry_run = true }
    assert.exit(result, 0)
    assert.plan(result, "golden/escalate-unacknowledged.plan.json")
    assert.equal("Sev2", sandbox.incident("INC-1").severity.label, "a dry run changes nothing")
  end)

  it("does nothing when everything was acknowledged or is too recent, and never escalates twice", function()
    local first = run{ args = { minutes = 30 } }
    assert.exit(first, 0)
    -- Five minutes later: INC-1 carries the comment, INC-2 is still recent.
    local again = run{ args = { minutes = 30 }, now = "+5m" }
    assert.exit(again, 0)
    assert.no_changes(again)
    assert.equal(1, #sandbox.comments("INC-1"))
  end)

  it("posts the comment once when the first answer is lost on the way back", function()
    local result = run{ args = { minutes = 30 },
                        -- The claim is the first timeline entry; the comment, the second.
                        faults = { { fault = "lost", operation = "timeline-entries.create", after = 1, times = 1 } } }
    assert.exit(result, 0)
    assert.equal(1, #sandbox.comments("INC-1"), "the retry found the comment the lost attempt posted")
    assert.has_record(result.journal, { event = "outcome", operation = "timeline-entries.create", status = 409 })
  end)

  it("leaves an incident to the run that claimed it in this window, and escalates it in the next", function()
    -- The first host claims INC-1, then DevRev fails its update.
    local first = run{ args = { minutes = 30 }, faults = { { fault = 500, operation = "incidents.update" } } }
    assert.exit(first, 69)
    assert.same({ { incident = "INC-1", reference = "runbook-claim:escalate-unacknowledged:2026-11-26T12:00:00Z/5m" } }, first.claims)
    -- The second host, a minute later, in the same five-minute window: INC-1 is the first's.
    local second = run{ args = { minutes = 30 }, now = "+1m" }
    assert.exit(second, 0)
    assert.no_changes(second)
    assert.equal("INC-1", second.claimed_elsewhere[1].incident)
    assert.matches("^run .* on runbook%-test$", second.claimed_elsewhere[1].holder)
    -- The next window's run escalates it.
    local later = run{ args = { minutes = 30 }, now = "+5m" }
    assert.exit(later, 0)
    assert.equal("Sev1", sandbox.incident("INC-1").severity.label)
  end)

  it("stops with exit 69 when DevRev keeps answering 500, after changing nothing", function()
    local result = run{ args = { minutes = 30 }, faults = { { fault = 500, operation = "incidents.update" } } }
    assert.exit(result, 69)
    assert.equal("internal_error", result.error_type)
    assert.no_changes(result)
    assert.equal(5, result.calls[#result.calls].attempts, "every attempt of the retry policy was used")
  end)
end)
