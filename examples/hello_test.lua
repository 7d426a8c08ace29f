-- Tests of hello.lua: runbook test examples/
describe("hello", function()
  it("prints the chores for a service", function()
    local result = run{ args = { service = "checkout", minutes = 15 } }
    assert.exit(result, 0)
    assert.contains(result.stdout, "On-call chores for checkout\n===========================\n")
    assert.contains(result.stdout, "- escalate sev-2s unacknowledged for 15 minutes\n")
  end)

  it("speaks of every service by default", function()
    local result = run{}
    assert.exit(result, 0)
    assert.matches("^On%-call chores for every service", result.stdout)
  end)

  it("refuses a threshold that is not positive", function()
    local result = run{ args = { minutes = 0 } }
    assert.exit(result, 1)
    assert.contains(result.error, "minutes must be positive, got 0")
  end)

  it("makes no request, so a DevRev outage does not touch it", function()
    local result = run{ faults = { { fault = 503 } } }
    assert.exit(result, 0)
    assert.same({}, result.calls)
  end)
end)
