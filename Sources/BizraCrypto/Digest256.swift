// TEMPORARY stand-in (slow) until the raft-quorum branch lands its allocation-free version.
import CSodium

public struct Digest256: Hashable, Sendable, CustomStringConvertible {
    public var bytes: [UInt8]
    public static let zero = Digest256(bytes: [UInt8](repeating: 0, count: 32))
    public init(bytes: [UInt8]) {
        precondition(bytes.count == 32)
        self.bytes = bytes
    }
    public var hex: String { Hex.encode(bytes) }
    public var description: String { hex }
}

public struct Blake2bHasher {
    var buffer: [UInt8] = []
    public mutating func update(_ bytes: [UInt8]) { buffer += bytes }
    public mutating func update(_ digest: Digest256) { buffer += digest.bytes }
    public mutating func update(_ byte: UInt8) { buffer.append(byte) }
    public mutating func update(bigEndian value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { buffer.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
}

extension Blake2b {
    public static func digest256(_ body: (inout Blake2bHasher) -> Void) -> Digest256 {
        var hasher = Blake2bHasher()
        body(&hasher)
        return Digest256(bytes: hash(hasher.buffer))
    }
}
