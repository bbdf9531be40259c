/// Checks made on configuration text before YAML parsing, against inputs that would make the
/// parser slow or the composed document enormous.
///
/// - Size: at most `MeshConfig.maxInputBytes`.
/// - Nesting: libyaml itself refuses nesting deeper than 1000 levels, which keeps the
///   recursive composer in Yams well within a thread's stack.
/// - Anchors (`&name`): refused. An alias shares its anchor's node, so a few lines of anchors
///   can describe a document exponentially larger than the file ("billion laughs"), and Yams
///   hashes whole mapping keys while composing. Without anchors every alias is undefined and
///   is refused by the parser. The scan is deliberately conservative: any `&` directly
///   followed by a name character counts, even inside a quoted string or trailing comment;
///   only whole-line comments are skipped.
enum ConfigInputGuard {
    static func check(_ yaml: String, source: String) throws(ConfigError) {
        try checkSize(yaml.utf8.count, source: source)
        if let line = firstAnchorLine(yaml) {
            throw ConfigError(
                file: source, key: "", message: "YAML anchors (`&name`) are not supported in bus-config",
                fix: "write values out in full; if `&` is part of a value or comment, remove it",
                code: .unsupportedYAML,
                line: line)
        }
    }

    static func checkSize(_ byteCount: Int, source: String) throws(ConfigError) {
        guard byteCount <= MeshConfig.maxInputBytes else {
            throw ConfigError(
                file: source, key: "",
                message: "the file is larger than \(MeshConfig.maxInputBytes) bytes, far beyond any real configuration",
                fix: "check that the path names a bus-config YAML file", code: .fileTooLarge)
        }
    }

    /// The 1-based line of the first `&` that could start an anchor, outside whole-line comments.
    static func firstAnchorLine(_ yaml: String) -> Int? {
        var line = 1
        var lineIsComment = false
        var atLineStart = true
        var previousWasAmpersand = false
        for byte in yaml.utf8 {
            if previousWasAmpersand, !lineIsComment, !endsAnchorName(byte) { return line }
            previousWasAmpersand = byte == UInt8(ascii: "&")
            if byte == UInt8(ascii: "\n") {
                line += 1
                atLineStart = true
                lineIsComment = false
            } else if atLineStart, byte != UInt8(ascii: " "), byte != UInt8(ascii: "\t") {
                atLineStart = false
                lineIsComment = byte == UInt8(ascii: "#")
            }
        }
        return nil
    }

    /// Bytes that cannot be the first character of an anchor name.
    private static func endsAnchorName(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
            return true
        case UInt8(ascii: ","), UInt8(ascii: "["), UInt8(ascii: "]"), UInt8(ascii: "{"), UInt8(ascii: "}"):
            return true
        default:
            return false
        }
    }
}
