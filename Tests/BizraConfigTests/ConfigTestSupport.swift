import Foundation
import Testing

@testable import BizraConfig

/// A small valid two-node file that tests edit with `replacing(_:with:)` to break one rule.
let twoNodeYAML = """
    cluster: test
    nodes:
      - id: n1
        address: 127.0.0.1
        portBase: 17100
        zone: z1
        components:
          worker: 2
      - id: n2
        address: 127.0.0.1
        portBase: 17200
        zone: z2
    """

/// The repository root, found from this file's path so that tests read the real bus-config/.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

let localYAMLPath = repositoryRoot.appendingPathComponent("bus-config/local.yaml").path

/// Decodes `yaml`, expecting a refusal; records an issue and returns nil if it was accepted.
func refusal(_ yaml: String, sourceLocation: SourceLocation = #_sourceLocation) -> ConfigError? {
    do {
        let config = try MeshConfig.decode(yaml: yaml, source: "test.yaml")
        Issue.record("expected a ConfigError, but decoded \(config)", sourceLocation: sourceLocation)
        return nil
    } catch {
        #expect(error.file == "test.yaml", sourceLocation: sourceLocation)
        #expect(!error.message.isEmpty && !error.fix.isEmpty, sourceLocation: sourceLocation)
        return error
    }
}

/// Expects `yaml` to be refused at `key` with `code`, and returns the error for further checks.
@discardableResult
func expectRefusal(
    _ yaml: String, key: String, code: ConfigError.Code, sourceLocation: SourceLocation = #_sourceLocation
) -> ConfigError? {
    guard let error = refusal(yaml, sourceLocation: sourceLocation) else { return nil }
    #expect(error.key == key, "\(error)", sourceLocation: sourceLocation)
    #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
    return error
}

extension String {
    /// This text with `target` replaced, failing loudly if `target` is absent (a stale fixture).
    func replacing(_ target: String, with replacement: String) -> String {
        precondition(contains(target), "fixture does not contain \(target)")
        return replacingOccurrences(of: target, with: replacement)
    }
}

/// SplitMix64: a small seeded generator, so that property tests replay exactly.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
