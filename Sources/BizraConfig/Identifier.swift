/// The syntax shared by node ids, zones, cluster names and principal pattern parts.
///
/// Lower-case ASCII, digits and `-`, starting with a letter or digit, at most 32 bytes: safe in
/// file names, ZeroMQ endpoints, metric labels and log lines without quoting.
enum Identifier {
    /// The longest identifier, in bytes.
    static let maxBytes = 32

    /// Ids that name principals rather than nodes: `client/<name>` and `<node>/core`.
    static let reservedNodeIDs: Set<String> = ["client", "core"]

    /// The pattern, for error messages.
    static let syntax = "[a-z0-9][a-z0-9-]{0,31}"

    static func isValid(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        guard let first = bytes.first, bytes.count <= maxBytes, isLowerAlphanumeric(first) else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
    }
}
