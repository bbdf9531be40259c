/// Big-endian writer for the bus's binary formats.
struct ByteWriter {
    var buffer: [UInt8] = []

    init(capacity: Int = 0) { buffer.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { buffer.append(v) }
    mutating func u16(_ v: UInt16) { buffer.append(UInt8(v >> 8)); buffer.append(UInt8(truncatingIfNeeded: v)) }
    mutating func u32(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { u8(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }
    mutating func u64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { u8(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }
    mutating func bytes(_ b: [UInt8]) { buffer.append(contentsOf: b) }

    /// A string of at most 255 UTF-8 bytes, preceded by its length. Callers validate lengths first.
    mutating func str8(_ s: String) {
        let utf8 = Array(s.utf8)
        precondition(utf8.count <= 255, "str8 field longer than 255 bytes: \(utf8.count)")
        u8(UInt8(utf8.count))
        bytes(utf8)
    }
}

/// Big-endian reader over untrusted bytes: every read is bounds-checked and throws `.malformed`.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, end: Int? = nil) {
        self.bytes = bytes
        self.offset = start
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - offset }

    mutating func u8() throws(FrameError) -> UInt8 {
        guard remaining >= 1 else { throw FrameError(.malformed, "truncated at byte \(offset)") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(FrameError) -> UInt16 { UInt16(try uint(2)) }
    mutating func u32() throws(FrameError) -> UInt32 { UInt32(try uint(4)) }
    mutating func u64() throws(FrameError) -> UInt64 { try uint(8) }

    private mutating func uint(_ width: Int) throws(FrameError) -> UInt64 {
        guard remaining >= width else { throw FrameError(.malformed, "truncated at byte \(offset)") }
        var v: UInt64 = 0
        for i in 0..<width { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += width
        return v
    }

    mutating func take(_ count: Int) throws(FrameError) -> ArraySlice<UInt8> {
        guard count >= 0, remaining >= count else {
            throw FrameError(.malformed, "field of \(count) bytes overruns the frame at byte \(offset)")
        }
        defer { offset += count }
        return bytes[offset..<offset + count]
    }

    /// A length-prefixed UTF-8 string; invalid UTF-8 is malformed.
    mutating func str8() throws(FrameError) -> String {
        let length = Int(try u8())
        let raw = try take(length)
        guard let s = String(validating: raw, as: UTF8.self) else {
            throw FrameError(.malformed, "invalid UTF-8 in a string field at byte \(offset - length)")
        }
        return s
    }
}
