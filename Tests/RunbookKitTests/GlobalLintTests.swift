@testable import RunbookKit
import Testing

@Suite("Undefined-global lint")
struct GlobalLintTests {
    private func names(_ source: String) -> [String] {
        GlobalLint.findings(in: Array(source.utf8)).map { "\($0.line):\($0.name)" }
    }

    @Test func typosOfModulesAndUndefinedNamesAreFound() {
        #expect(names("print(incidnet.update)\nlocal t = {name = 1, [k] = 2}\nfunction helper(a) return a + y end\n") == ["1:incidnet", "2:k", "3:y"])
    }

    @Test func localsParametersLoopVariablesAndAssignedGlobalsAreDefined() {
        let source = """
            #!/usr/bin/env runbook
            local a, b <const> = 1, 2
            z = 3
            function helper(x, ...) return x + a + b + z end
            local function fact(n) return n > 1 and n * fact(n - 1) or 1 end
            for i, v in ipairs({a, b}) do print(i, v) end
            for i = 1, 3 do print(i) end
            local obj = {}
            function obj:method(p) return self, p end
            repeat local q = 1 until q
            while a > 3 do local w = 1 print(w) end
            if a then local c = 1 print(c) elseif b then local d = 2 print(d) else print(a) end
            goto done
            ::done::
            print(string.rep("x", 2), obj.method, t, [[ long string with undefined_name ]], "quoted undefined_name")
            -- a comment with undefined_name
            --[==[ a long comment
            with undefined_name ]==]
            return helper(1), 0x1p4, 1e-3, ("s"):upper()
            """
        #expect(names(source) == ["15:t"])
    }

    @Test func localsDoNotLeakOutOfTheirBlock() {
        #expect(names("do local inner = 1 end\nprint(inner)\n") == ["2:inner"])
        #expect(names("local function f(p) return p end\nprint(p)\n") == ["2:p"])
    }
}
