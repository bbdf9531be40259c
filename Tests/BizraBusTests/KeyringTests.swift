import BizraCrypto
import Testing

@testable import BizraBus

@Suite struct KeyringTests {
    @Test func serializedKeyringParsesBackToTheSameKeys() throws {
        var ring = Keyring()
        ring.add(name: "n2/worker", publicKey: Fixture.key.publicKey)
        ring.add(name: "client/ops", publicKey: Fixture.otherKey.publicKey)
        ring.add(name: "n1/core", publicKey: Ed25519.KeyPair.generate().publicKey)
        let text = ring.serialized()
        #expect(try Keyring.parse(text, source: "keyring.yaml") == ring)
        let names = text.split(separator: "\n").filter { !$0.hasPrefix("#") }.map { $0.prefix { $0 != ":" } }
        #expect(names == ["client/ops", "n1/core", "n2/worker"], "sorted by name so the file is stable")
    }

    @Test func commentsBlankLinesSpacesAndUpperCaseHexAreAccepted() throws {
        let hex = Hex.encode(Fixture.key.publicKey)
        let text = "# keys\n\n  n1/worker :\t\(hex.uppercased())  \r\n# end\nclient/cli: \(hex)"
        let ring = try Keyring.parse(text, source: "k")
        #expect(ring.publicKey(for: "n1/worker") == Fixture.key.publicKey)
        #expect(ring.publicKey(for: "client/cli") == Fixture.key.publicKey)
        #expect(ring.keys.count == 2)
    }

    @Test func badLinesAreErrorsNamingFileAndLine() {
        let hex = Hex.encode(Fixture.key.publicKey)
        let cases: [(String, String)] = [
            ("# ok\nn1/worker \(hex)\n", "ring.yaml:2:"),
            ("n1/worker: \(hex)\n\nn1/core: abc\n", "ring.yaml:3:"),
            ("n1/worker: \(hex.dropLast(2))\n", "ring.yaml:1:"),
            ("worker: \(hex)\n", "ring.yaml:1:"),
            ("n1/worker: \(hex.dropLast(1))z\n", "ring.yaml:1:"),
        ]
        for (text, location) in cases {
            do {
                let ring = try Keyring.parse(text, source: "ring.yaml")
                Issue.record("parsed \(ring.keys.keys.sorted()) from \(text)")
            } catch {
                #expect(error.code == .badKeyring)
                #expect(error.message.hasPrefix(location), "\(error.message)")
            }
        }
    }

    @Test func mergePrefersTheOtherRingsKeys() {
        var a = Keyring(keys: ["n1/worker": Fixture.key.publicKey])
        a.merge(Keyring(keys: ["n1/worker": Fixture.otherKey.publicKey, "n1/core": Fixture.key.publicKey]))
        #expect(a.publicKey(for: "n1/worker") == Fixture.otherKey.publicKey)
        #expect(a.publicKey(for: "n1/core") == Fixture.key.publicKey)
        #expect(a.publicKey(for: "n1/sync") == nil)
    }
}
