import Foundation
import Yams

/// Reading configuration text: the file, its size and encoding, YAML parsing, then decoding
/// and validation. Every failure, including malformed YAML, becomes a `ConfigError`.
extension MeshConfig {
    /// The largest configuration accepted, in bytes. Real files are a few KiB; the limit keeps
    /// a wrong path (a log, a binary) from being read whole.
    public static let maxInputBytes = 1 << 20

    /// The source name used for errors in the compiled-in default.
    public static let embeddedSourceName = "<embedded local.yaml>"

    /// Reads, decodes and validates the file at `path`; a relative `keyring:` is resolved
    /// against the file's directory.
    public static func load(path: String) throws(ConfigError) -> MeshConfig {
        let bytes = try readFile(path)
        var config = try decode(bytes: bytes, source: path)
        if let keyring = config.keyringPath {
            config.keyringPath = resolve(keyring, relativeToDirectoryOf: path)
        }
        return config
    }

    /// Decodes and validates YAML text. `source` names the input in errors. A relative
    /// `keyring:` is returned as written, since text has no directory.
    public static func decode(yaml: String, source: String) throws(ConfigError) -> MeshConfig {
        try ConfigInputGuard.check(yaml, source: source)
        let root = try parse(yaml, source: source)
        let config = try read(ConfigNode(node: root, source: source, path: ""))
        try config.validate(source: source)
        return config
    }

    /// Decodes and validates raw bytes, refusing inputs that are too large or not UTF-8.
    /// This is what `load(path:)` and the config fuzzer use.
    public static func decode(bytes: [UInt8], source: String) throws(ConfigError) -> MeshConfig {
        try ConfigInputGuard.checkSize(bytes.count, source: source)
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw ConfigError(
                file: source, key: "", message: "the file is not valid UTF-8 text",
                fix: "save the file as UTF-8 (is this the right file?)", code: .invalidEncoding)
        }
        return try decode(yaml: text, source: source)
    }

    private static func readFile(_ path: String) throws(ConfigError) -> [UInt8] {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw ConfigError(
                file: path, key: "", message: "cannot open the file",
                fix: "check that the path exists and is readable, or omit --config to use the embedded default",
                code: .unreadableFile)
        }
        defer { try? handle.close() }
        do {
            let data = try handle.read(upToCount: maxInputBytes + 1) ?? Data()
            return [UInt8](data)
        } catch {
            throw ConfigError(
                file: path, key: "", message: "cannot read the file: \(error)",
                fix: "check that the path is a regular, readable file", code: .unreadableFile)
        }
    }

    private static func resolve(_ keyring: String, relativeToDirectoryOf configPath: String) -> String {
        let configURL = URL(fileURLWithPath: configPath)
        let directory = configURL.deletingLastPathComponent()
        return URL(fileURLWithPath: keyring, relativeTo: directory).standardizedFileURL.path
    }

    private static func parse(_ yaml: String, source: String) throws(ConfigError) -> Node {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw YAMLSyntaxError.convert(error, source: source)
        }
        guard let root else {
            throw ConfigError(
                file: source, key: "", message: "the file holds no YAML document",
                fix: "start from bus-config/local.yaml", code: .missingKey)
        }
        return root
    }
}
