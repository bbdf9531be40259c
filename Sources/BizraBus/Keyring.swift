import BizraCrypto

/// The public keys a core trusts, by key name (`node/component`, or `client/NAME`).
///
/// File format (valid YAML, and simple enough to read without a YAML parser): one
/// `name: <64 hex digits>` per line; blank lines and lines starting with `#` are ignored.
public struct Keyring: Sendable, Equatable {
    public private(set) var keys: [String: [UInt8]]

    public init(keys: [String: [UInt8]] = [:]) { self.keys = keys }

    public func publicKey(for name: String) -> [UInt8]? { keys[name] }

    public mutating func add(name: String, publicKey: [UInt8]) {
        precondition(publicKey.count == Ed25519.publicKeyBytes, "public key for \(name) has \(publicKey.count) bytes")
        keys[name] = publicKey
    }

    public mutating func merge(_ other: Keyring) {
        keys.merge(other.keys) { _, new in new }
    }

    /// Parses keyring text; `source` names the file in errors.
    public static func parse(_ text: String, source: String) throws(BusError) -> Keyring {
        var ring = Keyring()
        // "\r\n" is one Character in Swift, so splitting on "\n" alone would not split CRLF files.
        let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
        for (number, rawLine) in lines.enumerated() {
            let line = rawLine.trimmingSpaces()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let colon = line.firstIndex(of: ":") else {
                throw BusError(.badKeyring, "\(source):\(number + 1): expected `node/component: <hex public key>`")
            }
            let name = String(line[..<colon]).trimmingSpaces()
            let hex = String(line[line.index(after: colon)...]).trimmingSpaces()
            guard let key = try? Hex.decode(hex), key.count == Ed25519.publicKeyBytes, name.contains("/") else {
                throw BusError(
                    .badKeyring, "\(source):\(number + 1): `\(name)` needs a 64-hex-digit Ed25519 public key")
            }
            ring.keys[name] = key
        }
        return ring
    }

    /// The file text, sorted by name so that the file is stable.
    public func serialized() -> String {
        var text = "# BIZRA Mesh public keyring: key name -> Ed25519 public key (hex). Safe to distribute.\n"
        for name in keys.keys.sorted() { text += "\(name): \(Hex.encode(keys[name]!))\n" }
        return text
    }
}

extension StringProtocol {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
        return String(s)
    }
}
