import Testing

@testable import BizraConfig

@Suite struct LinkConfigTests {
    @Test func linkSettingsDecodeWithDefaultsForWhatIsLeftOut() throws {
        let none = try MeshConfig.decode(yaml: twoNodeYAML, source: "test.yaml")
        #expect(none.link == .defaults)
        let some = try MeshConfig.decode(
            yaml: twoNodeYAML + "\nlink:\n  codec: lz4\n  encrypt: true\n", source: "test.yaml")
        #expect(some.link == LinkConfig(codec: "lz4", poolSize: 2, encrypt: true, dictionary: true))
    }

    @Test func badLinkSettingsAreRefusedWithTheirKey() {
        for (yaml, key) in [
            ("link:\n  codec: brotli\n", "link.codec"),
            ("link:\n  poolSize: 3\n", "link.poolSize"),
            ("link:\n  encrypt: yes\n", "link.encrypt"),
            ("link:\n  compress: true\n", "link"),
        ] {
            let error = refusal(twoNodeYAML + "\n" + yaml)
            #expect(error?.key.hasPrefix(key) ?? false, "\(yaml): \(String(describing: error))")
        }
    }
}
