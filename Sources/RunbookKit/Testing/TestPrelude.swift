/// The Lua half of a test file's environment: `describe`, `it`, `pending`, `before_each`,
/// `after_each`, the `assert` table with its diffs, and the globals that reach the Swift half
/// (`given`, `run`, `sandbox`). It keeps the cases a file declares; the runner asks it for them
/// (`list`) and runs one case's phases (`phase`) in a VM of that case's own.
enum TestPrelude {
    static let chunkName = "=runbook test"
    static let hostModule = "runbook.test.host"

    static let source = #"""
local host = require("runbook.test.host")
local where = host.where
local type, pairs, ipairs, tostring, error, select = type, pairs, ipairs, tostring, error, select
local string_format, string_rep, table_concat, table_sort = string.format, string.rep, table.concat, table.sort
local math_type = math.type

-- Cases, in the order the file declares them, and the block each belongs to.
local root = { before = {}, after = {}, names = {} }
local block = root
local cases = {}

local function check_declaration(kind, name, fn, level)
  if type(name) ~= "string" or name == "" then
    error(kind .. ": the first argument is the name, a non-empty string (got " .. type(name) .. ")", level)
  end
  if fn ~= nil and type(fn) ~= "function" then
    error(kind .. " '" .. name .. "': the second argument is a function (got " .. type(fn) .. ")", level)
  end
end

function describe(name, fn)
  check_declaration("describe", name, fn, 3)
  if fn == nil then error("describe '" .. name .. "': the second argument is a function", 2) end
  local names = {}
  for i, outer in ipairs(block.names) do names[i] = outer end
  names[#names + 1] = name
  local parent = block
  block = { parent = parent, before = {}, after = {}, names = names }
  local ok, problem = pcall(fn)
  block = parent
  if not ok then error(problem, 0) end
end

local function declare(kind, name, fn, pending)
  check_declaration(kind, name, fn, 4)
  if not pending and fn == nil then error(kind .. " '" .. name .. "': the second argument is a function", 3) end
  local _, line = where(3)
  local full = {}
  for i, outer in ipairs(block.names) do full[i] = outer end
  full[#full + 1] = name
  cases[#cases + 1] = { name = table_concat(full, " > "), line = line or 0, fn = fn, block = block, pending = pending }
end

function it(name, fn) declare("it", name, fn, false) end
function pending(name) declare("pending", name, nil, true) end

function before_each(fn)
  if type(fn) ~= "function" then error("before_each: the argument is a function (got " .. type(fn) .. ")", 2) end
  block.before[#block.before + 1] = fn
end

function after_each(fn)
  if type(fn) ~= "function" then error("after_each: the argument is a function (got " .. type(fn) .. ")", 2) end
  block.after[#block.after + 1] = fn
end

rawset(host, "list", function()
  local list = {}
  for i, case in ipairs(cases) do list[i] = { name = case.name, line = case.line, pending = case.pending } end
  return list
end)

rawset(host, "phase", function(index, phase)
  local case = cases[index]
  if phase == "body" then return case.fn() end
  local chain = {}
  local b = case.block
  while b do table.insert(chain, 1, b); b = b.parent end
  if phase == "before" then
    for _, each in ipairs(chain) do for _, fn in ipairs(each.before) do fn() end end
  else
    for i = #chain, 1, -1 do for _, fn in ipairs(chain[i].after) do fn() end end
  end
end)

given = host.given
run = host.run

-- Showing values: one line, keys sorted, cycles and depth bounded.
local function key_text(key)
  if type(key) == "string" and key:match("^[%a_][%w_]*$") then return key end
  return "[" .. (type(key) == "string" and string_format("%q", key) or tostring(key)) .. "]"
end

local function sorted_keys(t)
  local keys = {}
  for k in pairs(t) do keys[#keys + 1] = k end
  table_sort(keys, function(a, b)
    local ta, tb = type(a), type(b)
    if ta ~= tb then return ta < tb end
    if ta == "number" or ta == "string" then return a < b end
    return tostring(a) < tostring(b)
  end)
  return keys
end

local function is_list(t)
  local n = 0
  for _ in pairs(t) do n = n + 1 end
  for i = 1, n do if rawget(t, i) == nil then return false end end
  return true, n
end

local function show(value, depth, seen)
  depth, seen = depth or 0, seen or {}
  local kind = type(value)
  if kind == "string" then
    local text = string_format("%q", value):gsub("\\\n", "\\n")
    return text
  elseif kind == "number" then
    if value ~= value then return "nan" end
    if math_type(value) == "float" and value == math.floor(value) and value > -1e15 and value < 1e15 then
      return string_format("%.1f", value)
    end
    return tostring(value)
  elseif kind ~= "table" then
    return tostring(value)
  end
  if seen[value] then return "<cycle>" end
  if depth >= 8 then return "{...}" end
  seen[value] = true
  local parts = {}
  local list, n = is_list(value)
  if list then
    for i = 1, n do parts[i] = show(value[i], depth + 1, seen) end
  else
    for _, k in ipairs(sorted_keys(value)) do
      parts[#parts + 1] = key_text(k) .. " = " .. show(value[k], depth + 1, seen)
    end
  end
  seen[value] = nil
  local text = "{" .. table_concat(parts, ", ") .. "}"
  if #text > 2000 then text = text:sub(1, 2000) .. "...}" end
  return text
end

local function same(a, b, seen)
  if a == b then return true end
  if type(a) == "number" and type(b) == "number" then return a ~= a and b ~= b end
  if type(a) ~= "table" or type(b) ~= "table" then return false end
  seen = seen or {}
  if seen[a] == b then return true end
  seen[a] = b
  for k, v in pairs(a) do
    if not same(v, rawget(b, k), seen) then return false end
  end
  for k in pairs(b) do
    if rawget(a, k) == nil then return false end
  end
  return true
end

-- Where two values differ: one line per path, at most 20.
local function differences(expected, actual, path, out, depth)
  if #out >= 20 then return end
  if type(expected) == "table" and type(actual) == "table" and depth < 16 then
    local keys, known = {}, {}
    for _, k in ipairs(sorted_keys(expected)) do keys[#keys + 1] = k; known[k] = true end
    for _, k in ipairs(sorted_keys(actual)) do if not known[k] then keys[#keys + 1] = k end end
    for _, k in ipairs(keys) do
      local e, a = rawget(expected, k), rawget(actual, k)
      local here = path .. (type(k) == "number" and ("[" .. tostring(k) .. "]") or ((path == "" and "" or ".") .. key_text(k)))
      if e == nil then
        out[#out + 1] = here .. ": not expected, got " .. show(a)
      elseif a == nil then
        out[#out + 1] = here .. ": missing, expected " .. show(e)
      elseif not same(e, a) then
        differences(e, a, here, out, depth + 1)
      end
      if #out >= 20 then out[#out + 1] = "..."; return end
    end
  else
    out[#out + 1] = (path == "" and "the value" or path) .. ": expected " .. show(expected) .. ", got " .. show(actual)
  end
end

local function fail(message, note, level)
  if note ~= nil then message = tostring(note) .. ": " .. message end
  error(message, level + 1)
end

local function difference_text(expected, actual)
  local out = {}
  differences(expected, actual, "", out, 0)
  return "expected and actual differ:\n  " .. table_concat(out, "\n  ")
    .. "\nexpected: " .. show(expected) .. "\nactual:   " .. show(actual)
end

-- Whether `actual` has every key of `partial` with the same value (extra keys are fine).
local function like(partial, actual)
  if type(partial) ~= "table" or type(actual) ~= "table" then return same(partial, actual) end
  for k, v in pairs(partial) do
    if not same(v, rawget(actual, k)) then return false end
  end
  return true
end

local function lines(list)
  if #list == 0 then return "  (none)" end
  local out = {}
  for i, item in ipairs(list) do out[i] = "  " .. i .. ". " .. show(item) end
  return table_concat(out, "\n")
end

-- A list compared record by record: each expected record's keys must match the actual one's.
local function check_records(expected, actual, options, what, note, level)
  if type(expected) ~= "table" then fail(what .. ": the expected records are a list (got " .. type(expected) .. ")", note, level + 1) end
  if type(actual) ~= "table" then fail(what .. ": there is no list to compare (got " .. type(actual) .. ")", note, level + 1) end
  options = options or {}
  local problem
  if #expected ~= #actual then
    local one = what:gsub("s$", "")
    problem = string_format("expected %d %s, got %d", #expected, #expected == 1 and one or what, #actual)
  elseif options.any_order then
    local used = {}
    for i, want in ipairs(expected) do
      local found = false
      for j, have in ipairs(actual) do
        if not used[j] and like(want, have) then used[j] = true; found = true; break end
      end
      if not found then problem = string_format("expected record %d matches none of the %s", i, what); break end
    end
  else
    for i, want in ipairs(expected) do
      if not like(want, actual[i]) then
        local out = {}
        for k, v in pairs(want) do
          if not same(v, rawget(actual[i], k)) then out[#out + 1] = key_text(k) .. ": expected " .. show(v) .. ", got " .. show(actual[i][k]) end
        end
        table_sort(out)
        problem = string_format("%s %d differs: %s", what:gsub("s$", ""), i, table_concat(out, "; "))
        break
      end
    end
  end
  if problem then
    fail(problem .. (options.any_order and " (in any order)" or "") .. "\nexpected:\n" .. lines(expected)
      .. "\nactual:\n" .. lines(actual), note, level + 1)
  end
end

local function check_run(value, name, level)
  if type(value) ~= "table" or value.exit_code == nil then
    error(name .. ": the first argument is what run returned (got " .. type(value) .. ")", level + 1)
  end
end

local function tail(text, count)
  local all = {}
  for line in (text or ""):gmatch("[^\n]+") do all[#all + 1] = line end
  local first = math.max(1, #all - count + 1)
  return table_concat(all, "\n  ", first)
end

local checks = {}

function checks.equal(expected, actual, note)
  if expected == actual or (expected ~= expected and actual ~= actual) then return end
  fail("expected " .. show(expected) .. ", got " .. show(actual), note, 2)
end
checks.equals = checks.equal

function checks.same(expected, actual, note)
  if same(expected, actual) then return end
  fail(difference_text(expected, actual), note, 2)
end

function checks.same_items(expected, actual, note)
  if type(expected) ~= "table" or type(actual) ~= "table" then fail("same_items compares two lists", note, 2) end
  local used, missing = {}, {}
  for _, want in ipairs(expected) do
    local found = false
    for j, have in ipairs(actual) do
      if not used[j] and same(want, have) then used[j] = true; found = true; break end
    end
    if not found then missing[#missing + 1] = want end
  end
  local extra = {}
  for j, have in ipairs(actual) do if not used[j] then extra[#extra + 1] = have end end
  if #missing == 0 and #extra == 0 then return end
  fail("the lists differ (in any order)\nmissing:\n" .. lines(missing) .. "\nnot expected:\n" .. lines(extra), note, 2)
end

function checks.truthy(value, note) if not value then fail("expected a true value, got " .. show(value), note, 2) end end
function checks.falsy(value, note) if value then fail("expected false or nil, got " .. show(value), note, 2) end end
function checks.is_true(value, note) if value ~= true then fail("expected true, got " .. show(value), note, 2) end end
function checks.is_false(value, note) if value ~= false then fail("expected false, got " .. show(value), note, 2) end end
function checks.is_nil(value, note) if value ~= nil then fail("expected nil, got " .. show(value), note, 2) end end
function checks.not_nil(value, note) if value == nil then fail("expected a value, got nil", note, 2) end end
checks.is_not_nil = checks.not_nil

function checks.matches(pattern, text, note)
  if type(pattern) ~= "string" then fail("matches: the first argument is a Lua pattern", note, 2) end
  if type(text) ~= "string" or not text:find(pattern) then
    fail("expected text matching " .. show(pattern) .. ", got " .. show(text), note, 2)
  end
end

function checks.contains(whole, part, note)
  if type(whole) == "string" then
    if type(part) == "string" and whole:find(part, 1, true) then return end
    fail("expected text containing " .. show(part) .. ", got " .. show(whole), note, 2)
  elseif type(whole) == "table" then
    for _, item in ipairs(whole) do if same(item, part) then return end end
    fail("expected a list containing " .. show(part) .. ", got " .. show(whole), note, 2)
  end
  fail("contains: the first argument is a string or a list (got " .. type(whole) .. ")", note, 2)
end

function checks.has_record(list, partial, note)
  if type(list) ~= "table" then fail("has_record: the first argument is a list (got " .. type(list) .. ")", note, 2) end
  for _, item in ipairs(list) do if like(partial, item) then return end end
  fail("no record is like " .. show(partial) .. "\nrecords:\n" .. lines(list), note, 2)
end

function checks.records(actual, expected, options, note)
  check_records(expected, actual, options, "records", note, 2)
end

function checks.has_error(fn, expected, note)
  if type(fn) ~= "function" then fail("has_error: the first argument is a function", note, 2) end
  local ok, problem = pcall(fn)
  if ok then fail("expected an error, the function returned", note, 2) end
  if expected == nil then return end
  if type(expected) == "string" then
    if tostring(problem):find(expected, 1, true) then return end
    fail("expected an error containing " .. show(expected) .. ", got " .. show(tostring(problem)), note, 2)
  end
  if type(expected) == "table" and type(problem) == "table" and like(expected, problem) then return end
  fail("expected an error like " .. show(expected) .. ", got " .. show(problem), note, 2)
end

function checks.exit(result, code, note)
  check_run(result, "assert.exit", 2)
  if result.exit_code == code then return end
  local why = result.error and (" (" .. tostring(result.error_type) .. ": " .. result.error .. ")") or ""
  local stderr = (result.stderr or "") == "" and "standard error: (empty)" or ("standard error:\n  " .. tail(result.stderr, 20))
  fail(string_format("the run exited %d%s, expected %d\n%s", result.exit_code, why, code, stderr), note, 2)
end

function checks.changes(result, expected, options, note)
  check_run(result, "assert.changes", 2)
  check_records(expected, result.changes, options, "changes", note, 2)
end

function checks.no_changes(result, note)
  check_run(result, "assert.no_changes", 2)
  if #result.changes > 0 then fail("expected no changes, got:\n" .. lines(result.changes), note, 2) end
end

function checks.comments(result, expected, options, note)
  check_run(result, "assert.comments", 2)
  check_records(expected, result.comments, options, "comments", note, 2)
end

function checks.plan(result, path, note)
  check_run(result, "assert.plan", 2)
  if type(path) ~= "string" then fail("assert.plan: the second argument is the golden plan's path", note, 2) end
  local problem = host.golden(result.run, path)
  if problem then fail(problem, note, 2) end
end

rawset(host, "assertion_names", function()
  local names = {}
  for name in pairs(checks) do names[#names + 1] = name end
  table_sort(names)
  return names
end)

assert = setmetatable({}, {
  __index = function(_, name)
    local check = checks[name]
    if check == nil then
      local names = {}
      for k in pairs(checks) do names[#names + 1] = k end
      error(host.unknown_assertion(name, names), 2)
    end
    return check
  end,
  __call = function(_, value, message, ...)
    if not value then error(message == nil and "assertion failed!" or message, 2) end
    return value, message, ...
  end,
  __newindex = function(_, name) error("assert." .. tostring(name) .. " cannot be replaced", 2) end,
})
"""#
}
