import Foundation
import Testing

/// Runs every transcript in Tests/BizraRaftTests/Scenarios (one test case per file) and compares
/// each command's output with its golden block. Set BIZRA_REWRITE_SCENARIOS=1 to rewrite the
/// golden blocks in place instead (then review the diff before committing).
@Suite struct RaftScenarioTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scenarios")

    static var files: [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        return names.filter { $0.hasSuffix(".txt") && $0 != "README.txt" }.sorted()
    }

    static var rewriting: Bool { ProcessInfo.processInfo.environment["BIZRA_REWRITE_SCENARIOS"] == "1" }

    @Test func scenariosExist() {
        #expect(Self.files.count > 0, "no scenario files under \(Self.directory.path)")
    }

    @Test(arguments: files) func scenario(_ name: String) throws {
        let url = Self.directory.appendingPathComponent(name)
        let text = try String(contentsOf: url, encoding: .utf8)
        let script = try RaftScenarioScript(text: text)
        var runner = RaftScenarioRunner()
        var outputs: [[String]] = []
        for step in script.steps {
            let actual: [String]
            do {
                actual = try runner.perform(step)
            } catch {
                Issue.record("\(name):\(step.line): \(step.command): \(error)")
                outputs.append(["error: \(error)"])
                break
            }
            outputs.append(actual)
            if !Self.rewriting, actual != step.expected {
                let diff = RaftScenarioScript.diff(expected: step.expected, actual: actual)
                Issue.record(
                    "\(name):\(step.line): output of `\(step.command)` differs (- expected, + actual):\n\(diff)")
                return
            }
        }
        outputs += script.steps.dropFirst(outputs.count).map(\.expected)
        if Self.rewriting {
            let rendered = script.rendered(outputs: outputs)
            if rendered != text { try rendered.write(to: url, atomically: true, encoding: .utf8) }
        }
    }
}
