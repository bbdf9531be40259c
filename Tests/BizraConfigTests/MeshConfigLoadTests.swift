import Foundation
import Testing

@testable import BizraConfig

@Suite struct MeshConfigLoadTests {
    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bizra-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func relativeKeyringResolvesAgainstTheConfigDirectory() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cluster.yaml").path
        try (twoNodeYAML + "\nkeyring: keys/../keys/public.yaml\n").write(
            toFile: path, atomically: true, encoding: .utf8)
        let config = try MeshConfig.load(path: path)
        let expected = directory.appendingPathComponent("keys/public.yaml").standardizedFileURL.path
        #expect(config.keyringPath == expected)
        #expect(config.keyringPath?.hasPrefix("/") == true)
    }

    @Test func absoluteKeyringIsKept() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("cluster.yaml").path
        try (twoNodeYAML + "\nkeyring: /etc/bizra/keyring.yaml\n").write(
            toFile: path, atomically: true, encoding: .utf8)
        #expect(try MeshConfig.load(path: path).keyringPath == "/etc/bizra/keyring.yaml")
    }

    @Test func missingFileIsAConfigError() {
        let error = #expect(throws: ConfigError.self) { try MeshConfig.load(path: "/nonexistent/bizra.yaml") }
        #expect(error?.code == .unreadableFile)
        #expect(error?.file == "/nonexistent/bizra.yaml")
    }

    @Test func oversizedFileIsRefusedBeforeParsing() throws {
        let directory = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("huge.yaml").path
        let huge = twoNodeYAML + "\n#" + String(repeating: "x", count: MeshConfig.maxInputBytes)
        try huge.write(toFile: path, atomically: true, encoding: .utf8)
        let error = #expect(throws: ConfigError.self) { try MeshConfig.load(path: path) }
        #expect(error?.code == .fileTooLarge)
    }

    @Test func invalidUTF8IsRefused() {
        let bytes = Array(twoNodeYAML.utf8) + [0xFF, 0xFE, 0x80]
        let error = #expect(throws: ConfigError.self) { try MeshConfig.decode(bytes: bytes, source: "bytes") }
        #expect(error?.code == .invalidEncoding)
    }

    @Test func descriptionNamesFileKeyMessageAndFix() {
        let error = ConfigError(file: "a.yaml", key: "nodes[1].portBase", message: "too low", fix: "raise it")
        #expect(error.description == "a.yaml: nodes[1].portBase: too low (fix: raise it)")
        let whole = ConfigError(file: "a.yaml", key: "", message: "bad", fix: "mend", code: .invalidYAML, line: 3)
        #expect(whole.description == "a.yaml:3: bad (fix: mend)")
    }
}
