import Testing

@testable import BizraBus

@Suite struct LaunchArgumentsTests {
    @Test func everyOptionIsParsed() throws {
        let parsed = try LaunchArguments.parse([
            "bizra-worker", "--node", "n2", "--instance", "3", "--config", "/etc/mesh.yaml", "--data-dir", "/tmp/d",
            "--port-base", "18000", "--supervisor-pid", "42",
        ])
        #expect(parsed.node == "n2")
        #expect(parsed.instance == 3)
        #expect(parsed.configPath == "/etc/mesh.yaml")
        #expect(parsed.dataDir == "/tmp/d")
        #expect(parsed.portBase == 18000)
        #expect(parsed.supervisorPID == 42)
        let minimal = try LaunchArguments.parse(["x", "--node", "n1"])
        #expect(minimal.instance == 0 && minimal.configPath == nil && minimal.portBase == nil)
    }

    @Test func badArgumentsAreConfigErrorsThatSayWhatIsWrong() {
        let cases: [([String], String)] = [
            (["x"], "--node ID is required"),
            (["x", "--instance", "1"], "--node ID is required"),
            (["x", "--node"], "--node needs a value"),
            (["x", "--node", "n1", "--port-base"], "--port-base needs a value"),
            (["x", "--node", "n1", "--verbose"], "unknown argument --verbose"),
            (["x", "--node", "n1", "--instance", "65536"], "--instance must be 0...65535"),
            (["x", "--node", "n1", "--instance", "-1"], "--instance must be 0...65535"),
            (["x", "--node", "n1", "--instance", "two"], "--instance must be 0...65535"),
        ]
        for (arguments, message) in cases {
            do {
                let parsed = try LaunchArguments.parse(arguments)
                Issue.record("\(arguments) parsed as \(parsed)")
            } catch {
                #expect(error.code == .config)
                #expect(error.message.hasPrefix(message), "\(arguments): \(error.message)")
            }
        }
    }
}
