import Testing

@testable import BizraConfig

/// Random damage to a valid file never crashes the decoder: each mutant either decodes to a
/// configuration that passes validation again, or is refused with a `ConfigError`.
@Suite struct ConfigMutationPropertyTests {
    static let mutantsPerSeed = 500

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func mutantsDecodeOrAreRefused(seed: UInt64) throws {
        var random = SplitMix64(state: seed)
        let original = Array(MeshConfig.embeddedDefaultYAML.utf8)
        var accepted = 0
        for _ in 0..<Self.mutantsPerSeed {
            let mutant = Self.mutate(original, using: &random)
            do {
                let config = try MeshConfig.decode(bytes: mutant, source: "mutant")
                try config.validate(source: "revalidate")
                accepted += 1
            } catch {
                #expect(!error.message.isEmpty)
                #expect(error.file == "mutant")
            }
        }
        // Some mutants (in comments, or value-preserving) must survive, or the test checks nothing.
        #expect(accepted > 0)
    }

    /// One of: flip bits of a byte, replace a byte with a YAML-significant one, truncate,
    /// delete a span, or duplicate a line.
    static func mutate(_ bytes: [UInt8], using random: inout SplitMix64) -> [UInt8] {
        var result = bytes
        let position = Int.random(in: 0..<bytes.count, using: &random)
        switch Int.random(in: 0..<5, using: &random) {
        case 0:
            result[position] ^= UInt8.random(in: 1...255, using: &random)
        case 1:
            result[position] = Array(":-[]{}&*!|>'\"#%@`,? \t\n".utf8).randomElement(using: &random)!
        case 2:
            result.removeSubrange(position...)
        case 3:
            result.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...40, using: &random)))
        default:
            let start = result[..<position].lastIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? 0
            let end = result[position...].firstIndex(of: UInt8(ascii: "\n")).map { $0 + 1 } ?? result.count
            result.insert(contentsOf: result[start..<end], at: start)
        }
        return result
    }
}
