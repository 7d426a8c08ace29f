import DevRevAPI
import LuaRuntime
@testable import RunbookKit
import Testing

@Suite("Declared parameters")
struct ScriptDeclarationsTests {
    private let source = Array("""
        #!/usr/bin/env runbook
        --- @description Escalate things.
        --- @param minutes integer = 30  minutes to wait
        --- @param ratio number = 0.5
        --- @param loud boolean = false
        --- @param team string  the owning team
        --- @param mode fast|slow = fast
        -- an ordinary comment
        local x = 1
        --- @param ignored string = after the code
        """.utf8)

    @Test func readsTheLeadingBlockOnly() throws {
        let declarations = try ScriptDeclarations.parse(source, path: "s.lua")
        #expect(declarations.description == "Escalate things.")
        #expect(declarations.parameters.map(\.name) == ["minutes", "ratio", "loud", "team", "mode"])
        #expect(declarations.parameters[4].type == .choice(["fast", "slow"]))
        #expect(declarations.parameters[3].defaultValue == nil)
        #expect(declarations.parameters[0].help == "minutes to wait")
    }

    @Test func argumentsAreTypedAndDefaultsFilledIn() throws {
        let declarations = try ScriptDeclarations.parse(source, path: "s.lua")
        let args = try declarations.arguments(for: [.init(key: "team", value: "db"), .init(key: "loud", value: "yes"), .init(key: "minutes", value: "45")])
        #expect(args == ["minutes": 45, "ratio": 0.5, "loud": true, "team": "db", "mode": "fast"])
    }

    @Test(arguments: [
        ([ScriptArgument(key: "minutes", value: "soon"), .init(key: "team", value: "db")], "--arg minutes=soon: expected an integer"),
        ([.init(key: "team", value: "db"), .init(key: "mode", value: "medium")], "--arg mode=medium: expected one of fast, slow"),
        ([.init(key: "team", value: "db"), .init(key: "loud", value: "maybe")], "--arg loud=maybe: expected true or false"),
        ([.init(key: "minutes", value: "1")], "missing --arg team=<string>: the owning team"),
        ([.init(key: "team", value: "db"), .init(key: "minuts", value: "1")], "unknown parameter 'minuts'; did you mean 'minutes'?"),
    ])
    func badArgumentsAreRefused(given: [ScriptArgument], message: String) throws {
        let declarations = try ScriptDeclarations.parse(source, path: "s.lua")
        #expect(throws: ScriptDeclarations.Failure.self) { try declarations.arguments(for: given) }
        do {
            _ = try declarations.arguments(for: given)
        } catch {
            #expect(error.description.hasPrefix(message), "\(error)")
        }
    }

    @Test func namesChangesAndDurations() throws {
        let declarations = try ScriptDeclarations.parse(Array("""
            --- @name tidy
            --- @changes severity, stage owned_by
            --- @param wait duration = 5m
            """.utf8), path: "t.lua")
        #expect(declarations.name == "tidy")
        #expect(declarations.changes == ["severity", "stage", "owned_by"])
        #expect(try declarations.arguments(for: []) == ["wait": 300])
        #expect(try declarations.arguments(for: [.init(key: "wait", value: "1.5s")]) == ["wait": 1.5])
        #expect(throws: ScriptDeclarations.Failure.self) { try declarations.arguments(for: [.init(key: "wait", value: "soon")]) }
        #expect(throws: ScriptDeclarations.Failure.self) {
            try ScriptDeclarations.parse(Array("--- @changes severty\n".utf8), path: "t.lua")
        }
    }

    @Test func changesMayNameCommentsAndOperationsThatChangeData() throws {
        let declarations = try ScriptDeclarations.parse(Array("--- @changes comment, devrev.call works.update tags.create\n".utf8), path: "t.lua")
        #expect(declarations.changes == ["comment", "devrev.call", "works.update", "tags.create"])
        for refused in ["works.get", "tags.list", "works", "Works.Update"] {
            #expect(throws: ScriptDeclarations.Failure.self, "\(refused)") {
                try ScriptDeclarations.parse(Array("--- @changes \(refused)\n".utf8), path: "t.lua")
            }
        }
        let scope = MutationScope(declared: declarations.changes)
        #expect(throws: Never.self) { try scope.permitCall(DevRevOperation(named: "parts.delete")!) }
        #expect(DevRevOperation(named: "dev-users.self")?.isRead == true, "published as a GET operation")
        #expect(DevRevOperation(named: "works.export")?.isIdempotent == true)
        #expect(DevRevOperation(named: "works.archive")?.isRead == false)
        #expect(throws: ScriptFailure.self) { try MutationScope(declared: ["works.update"]).permitCall(DevRevOperation(named: "parts.delete")!) }
        #expect(throws: ScriptFailure.self) { try MutationScope(declared: nil).permitCall(DevRevOperation(named: "works.update")!) }
        #expect(throws: ScriptFailure.self) { try MutationScope(declared: ["severity"]).permit("incident.comment", declaredAs: "comment") }
        #expect(throws: Never.self) { try MutationScope(declared: nil).permit("incident.comment", declaredAs: "comment") }
    }

    @Test func withoutDeclarationsEveryArgumentIsAString() throws {
        let plain = try ScriptDeclarations.parse(Array("print(1)\n".utf8), path: "p.lua")
        #expect(try plain.arguments(for: [.init(key: "n", value: "3")]) == ["n": "3"])
    }

    @Test(arguments: [
        "--- @param 9x integer", "--- @param x colour", "--- @param x integer = many", "--- @param x", "--- @param x integer =",
        "--- @param x string\n--- @param x string",
    ])
    func badDeclarationsAreErrorsWithTheLine(text: String) {
        #expect(throws: ScriptDeclarations.Failure.self) { try ScriptDeclarations.parse(Array(text.utf8), path: "bad.lua") }
    }
}
