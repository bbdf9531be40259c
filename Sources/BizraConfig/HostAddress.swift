/// Syntax checks for a node's `address`: an IPv4 literal or an RFC 1123 host name.
///
/// IPv6 is not accepted yet: ZeroMQ TCP endpoints need brackets and an option for it, and
/// every test host is on 127.0.0.0/8.
enum HostAddress {
    static let maxBytes = 253

    /// Why `address` is not acceptable, or nil if it is.
    static func problem(with address: String) -> String? {
        let bytes = Array(address.utf8)
        guard !bytes.isEmpty, bytes.count <= maxBytes else {
            return "address \(Quoted.value(address)) is empty or longer than \(maxBytes) bytes"
        }
        let looksNumeric = bytes.allSatisfy { $0 == UInt8(ascii: ".") || isDigit($0) }
        if looksNumeric {
            return isIPv4(address) ? nil : "address \(Quoted.value(address)) is not a valid IPv4 address"
        }
        let labels = address.split(separator: ".", omittingEmptySubsequences: false)
        return labels.allSatisfy(isHostLabel)
            ? nil : "address \(Quoted.value(address)) is not an IPv4 address or host name"
    }

    static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4
            && parts.allSatisfy { part in
                (1...3).contains(part.count) && UInt8(part) != nil && (part.count == 1 || part.first != "0")
            }
    }

    private static func isHostLabel(_ label: Substring) -> Bool {
        let bytes = Array(label.utf8)
        guard let first = bytes.first, let last = bytes.last, bytes.count <= 63 else { return false }
        let hyphen = UInt8(ascii: "-")
        return first != hyphen && last != hyphen && bytes.allSatisfy { isAlphanumeric($0) || $0 == hyphen }
    }

    private static func isDigit(_ byte: UInt8) -> Bool { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isDigit(byte) || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
    }
}
