import CZstd

/// zstd (libzstd) compression with optional dictionaries: the one wrapper of libzstd in BIZRA
/// Mesh. Pure computation; each value owns its native contexts and MUST be used by one thread
/// at a time (a link connection owns one compressor for writing and one decompressor for reading).
public final class ZstdCompressor: @unchecked Sendable {
    /// zstd level 1: 3.0× on 1 MiB batches at ≈ 257 MB/s here; level 3 was no better (NOTES.md).
    public static let level: Int32 = 1
    private let context: OpaquePointer
    private var dictionary: OpaquePointer?
    /// The id of the loaded dictionary, 0 when none.
    public private(set) var dictionaryID: UInt32 = 0

    public init() {
        guard let context = ZSTD_createCCtx() else { preconditionFailure("ZSTD_createCCtx failed: out of memory") }
        self.context = context
    }

    deinit {
        ZSTD_freeCCtx(context)
        if let dictionary { ZSTD_freeCDict(dictionary) }
    }

    /// Uses `bytes` (id `id`, nonzero) for `compress(_:withDictionary: true)` from now on.
    public func load(dictionary bytes: [UInt8], id: UInt32) {
        precondition(id != 0 && !bytes.isEmpty, "a zstd dictionary needs a nonzero id and bytes")
        if let dictionary { ZSTD_freeCDict(dictionary) }
        dictionary = bytes.withUnsafeBytes { ZSTD_createCDict($0.baseAddress, $0.count, Self.level) }
        dictionaryID = dictionary == nil ? 0 : id
    }

    /// The compressed frame, or nil when it would not be smaller than `input` (or zstd failed).
    public func compress(_ input: UnsafeRawBufferPointer, withDictionary: Bool) -> [UInt8]? {
        guard input.count > 0 else { return nil }
        if withDictionary && dictionary == nil { return nil }
        let bound = ZSTD_compressBound(input.count)
        var out = [UInt8](repeating: 0, count: bound)
        let written = out.withUnsafeMutableBytes { dst in
            if withDictionary, let dictionary {
                return ZSTD_compress_usingCDict(
                    context, dst.baseAddress, bound, input.baseAddress, input.count, dictionary)
            }
            return ZSTD_compressCCtx(context, dst.baseAddress, bound, input.baseAddress, input.count, Self.level)
        }
        guard ZSTD_isError(written) == 0, written < input.count else { return nil }
        out.removeSubrange(written...)
        return out
    }

    /// Trains a dictionary of at most `capacityBytes` on `samples`, or nil when zstd finds
    /// too little structure (it needs dozens of samples; a few hundred are better).
    public static func trainDictionary(samples: [[UInt8]], capacityBytes: Int) -> [UInt8]? {
        guard samples.count >= 8, capacityBytes >= 256 else { return nil }
        let joined = samples.flatMap { $0 }
        let sizes = samples.map { $0.count }
        var dictionary = [UInt8](repeating: 0, count: capacityBytes)
        let size = dictionary.withUnsafeMutableBytes { dst in
            joined.withUnsafeBytes { src in
                sizes.withUnsafeBufferPointer { sizes in
                    ZDICT_trainFromBuffer(
                        dst.baseAddress, capacityBytes, src.baseAddress, sizes.baseAddress, UInt32(sizes.count))
                }
            }
        }
        guard ZDICT_isError(size) == 0, size > 0 else { return nil }
        dictionary.removeSubrange(size...)
        return dictionary
    }
}

/// The reading side of zstd: a decompression context and the dictionaries a peer sent.
public final class ZstdDecompressor: @unchecked Sendable {
    /// The largest window a peer's frame may ask for (8 MiB): bounds memory on hostile input.
    public static let windowLogMax: Int32 = 23
    private let context: OpaquePointer
    private var dictionaries: [(id: UInt32, handle: OpaquePointer)] = []
    private let dictionariesMax: Int

    public init(dictionariesMax: Int) {
        guard let context = ZSTD_createDCtx() else { preconditionFailure("ZSTD_createDCtx failed: out of memory") }
        ZSTD_DCtx_setParameter(context, ZSTD_d_windowLogMax, Self.windowLogMax)
        self.context = context
        self.dictionariesMax = max(1, dictionariesMax)
    }

    deinit {
        ZSTD_freeDCtx(context)
        for entry in dictionaries { ZSTD_freeDDict(entry.handle) }
    }

    /// Adds (or replaces) dictionary `id`; past `dictionariesMax` the oldest is forgotten.
    public func add(dictionary bytes: [UInt8], id: UInt32) -> Bool {
        guard let handle = bytes.withUnsafeBytes({ ZSTD_createDDict($0.baseAddress, $0.count) }) else { return false }
        if let index = dictionaries.firstIndex(where: { $0.id == id }) {
            ZSTD_freeDDict(dictionaries.remove(at: index).handle)
        }
        if dictionaries.count >= dictionariesMax { ZSTD_freeDDict(dictionaries.removeFirst().handle) }
        dictionaries.append((id, handle))
        return true
    }

    public func hasDictionary(_ id: UInt32) -> Bool { dictionaries.contains { $0.id == id } }

    /// Exactly `originalBytes` bytes, or nil when `frame` is not a zstd frame that decodes to
    /// that length (with dictionary `dictionaryID` when nonzero and known). Safe on hostile input.
    public func decompress(_ frame: UnsafeRawBufferPointer, originalBytes: Int, dictionaryID: UInt32) -> [UInt8]? {
        guard originalBytes > 0, frame.count > 0 else { return nil }
        var handle: OpaquePointer?
        if dictionaryID != 0 {
            guard let entry = dictionaries.first(where: { $0.id == dictionaryID }) else { return nil }
            handle = entry.handle
        }
        var out = [UInt8](repeating: 0, count: originalBytes)
        let written = out.withUnsafeMutableBytes { dst in
            if let handle {
                return ZSTD_decompress_usingDDict(
                    context, dst.baseAddress, originalBytes, frame.baseAddress, frame.count, handle)
            }
            return ZSTD_decompressDCtx(context, dst.baseAddress, originalBytes, frame.baseAddress, frame.count)
        }
        guard ZSTD_isError(written) == 0, written == originalBytes else { return nil }
        return out
    }
}
