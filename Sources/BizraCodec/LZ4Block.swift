import CLZ4

/// LZ4 block compression (liblz4): the one wrapper of liblz4 in BIZRA Mesh. Pure computation.
///
/// Blocks carry no length of their own: callers store the uncompressed length beside the block
/// and pass it back to `decompress`, which refuses anything that does not decode to exactly it.
public enum LZ4Block {
    /// The largest input liblz4 accepts (`LZ4_MAX_INPUT_SIZE`).
    public static let inputBytesMax = 0x7E00_0000

    /// The compressed block, or nil when compressing would not make `input` smaller.
    public static func compress(_ input: UnsafeRawBufferPointer) -> [UInt8]? {
        guard input.count > 0, input.count <= inputBytesMax else { return nil }
        let bound = Int(LZ4_compressBound(Int32(input.count)))
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            LZ4_compress_default(
                input.baseAddress!.assumingMemoryBound(to: CChar.self),
                dst.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(input.count), Int32(bound))
        }
        guard written > 0, Int(written) < input.count else { return nil }
        out.removeSubrange(Int(written)...)
        return out
    }

    /// The decompressed bytes, or nil when `block` is not a valid LZ4 block of exactly
    /// `originalBytes` bytes. Safe on hostile input (`LZ4_decompress_safe`).
    public static func decompress(_ block: UnsafeRawBufferPointer, originalBytes: Int) -> [UInt8]? {
        guard originalBytes > 0, originalBytes <= inputBytesMax, block.count > 0, block.count <= Int(Int32.max)
        else { return nil }
        var out = [UInt8](repeating: 0, count: originalBytes)
        let written = out.withUnsafeMutableBytes { dst in
            LZ4_decompress_safe(
                block.baseAddress!.assumingMemoryBound(to: CChar.self),
                dst.baseAddress!.assumingMemoryBound(to: CChar.self), Int32(block.count), Int32(originalBytes))
        }
        return Int(written) == originalBytes ? out : nil
    }
}
