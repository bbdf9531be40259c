/// Big-endian writing and bounds-checked reading for the link's binary format.
struct LinkWriter {
    var buffer: [UInt8] = []

    init(capacity: Int = 0) { buffer.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { buffer.append(v) }
    mutating func u16(_ v: UInt16) {
        buffer.append(UInt8(v >> 8))
        buffer.append(UInt8(truncatingIfNeeded: v))
    }
    mutating func u32(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { u8(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }
    mutating func u64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { u8(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }
    mutating func bytes<C: Collection>(_ b: C) where C.Element == UInt8 { buffer.append(contentsOf: b) }

    /// Writes the length prefix in place at `at`, covering everything after it.
    mutating func patchLength(at offset: Int) {
        let length = UInt32(buffer.count - offset - Link.lengthPrefixBytes)
        for i in 0..<4 { buffer[offset + i] = UInt8(truncatingIfNeeded: length >> UInt32(24 - 8 * i)) }
    }
}

struct LinkReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = start
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }

    mutating func u8() throws(LinkError) -> UInt8 { UInt8(try uint(1)) }
    mutating func u16() throws(LinkError) -> UInt16 { UInt16(try uint(2)) }
    mutating func u32() throws(LinkError) -> UInt32 { UInt32(try uint(4)) }
    mutating func u64() throws(LinkError) -> UInt64 { try uint(8) }

    private mutating func uint(_ width: Int) throws(LinkError) -> UInt64 {
        guard remaining >= width else { throw LinkError(.malformed, "truncated at byte \(offset)") }
        var v: UInt64 = 0
        for i in 0..<width { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += width
        return v
    }

    mutating func take(_ count: Int) throws(LinkError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else {
            throw LinkError(.malformed, "field of \(count) bytes overruns the link frame at byte \(offset)")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    mutating func rest() -> ArraySlice<UInt8> {
        defer { offset = end }
        return bytes[offset..<end]
    }
}
