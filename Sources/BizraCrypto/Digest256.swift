import CSodium

/// A 32-byte digest (BLAKE2b-256), held inline as four words: no heap, cheap to copy, compare
/// and hash. It exists for the hash chain of the Raft log and its Merkle tree, where millions of
/// digests are built and compared and a `[UInt8]` per digest would cost an allocation each.
///
/// The words hold the bytes in memory order (each word is loaded from eight bytes in the
/// machine's byte order), so `withUnsafeBytes` hands out the digest bytes without a copy loop.
/// Ordering is lexicographic by byte, the same as comparing `bytes` arrays.
public struct Digest256: Hashable, Sendable, Comparable, CustomStringConvertible {
    public static let byteCount = 32

    /// The all-zero digest: a placeholder (the chain hash before the first entry), never the
    /// digest of anything in practice.
    public static let zero = Digest256(words: (0, 0, 0, 0))

    private var word0: UInt64
    private var word1: UInt64
    private var word2: UInt64
    private var word3: UInt64

    init(words: (UInt64, UInt64, UInt64, UInt64)) {
        (word0, word1, word2, word3) = words
    }

    /// The digest whose bytes are `bytes`. `bytes` MUST hold exactly 32 bytes (a programmer
    /// error otherwise); use `init?(_:)` for bytes from outside.
    public init(bytes: some Collection<UInt8>) {
        precondition(bytes.count == Self.byteCount, "a Digest256 has 32 bytes, got \(bytes.count)")
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let copied: Void? = bytes.withContiguousStorageIfAvailable { source in
            Swift.withUnsafeMutableBytes(of: &words) { $0.copyMemory(from: UnsafeRawBufferPointer(source)) }
        }
        if copied == nil {
            Swift.withUnsafeMutableBytes(of: &words) { target in
                for (offset, byte) in bytes.enumerated() { target[offset] = byte }
            }
        }
        self.init(words: words)
    }

    /// The digest whose bytes are `bytes`, or nil when there are not exactly 32 of them.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.init(bytes: bytes)
    }

    /// The digest written as 64 hexadecimal digits (either case), or nil for any other text.
    public init?(hex: String) {
        guard hex.utf8.count == Self.byteCount * 2, let bytes = try? Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// Calls `body` with the 32 digest bytes (valid only during the call).
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let words = (word0, word1, word2, word3)
        return try Swift.withUnsafeBytes(of: words) { (raw) throws(E) -> R in try body(raw) }
    }

    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Lower-case hexadecimal, 64 characters.
    public var hex: String { Hex.encode(bytes) }

    public var description: String { hex }

    public static func < (lhs: Digest256, rhs: Digest256) -> Bool {
        // Big-endian values of the memory-order words compare like the bytes they hold.
        let left = lhs.bigEndianWords
        let right = rhs.bigEndianWords
        return (left.0, left.1, left.2, left.3) < (right.0, right.1, right.2, right.3)
    }

    private var bigEndianWords: (UInt64, UInt64, UInt64, UInt64) {
        (UInt64(bigEndian: word0), UInt64(bigEndian: word1), UInt64(bigEndian: word2), UInt64(bigEndian: word3))
    }
}

/// Encoded as its 64-digit lower-case hex string, so that proofs and status output read as JSON.
extension Digest256: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let digest = Digest256(hex: text) else {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "a Digest256 is 64 hex digits, got \(text.utf8.count) characters")
        }
        self = digest
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(hex)
    }
}

/// An incremental, unkeyed BLAKE2b-256 (libsodium `crypto_generichash`) over caller-owned state
/// memory, so that hashing allocates nothing. Get one from `Blake2b.digest256(_:)` or
/// `Blake2b.withHasher(_:)`, which put the state on the stack.
///
/// The type is non-copyable because it is a view of that state: a copy would alias it, and an
/// escaped one would dangle. After `finalize()` the hasher starts the next digest afresh, so one
/// hasher can produce many digests (a Merkle level, a run of chain hashes).
public struct Blake2bHasher: ~Copyable {
    /// libsodium's `crypto_generichash_state` size (384 bytes in 1.0.x), with headroom; checked
    /// against `crypto_generichash_statebytes()` once per process.
    static let stateBytesMax = 512
    /// The C state type is declared 64-byte aligned; Swift does not import over-aligned types.
    static let stateAlignmentBytes = 64

    private let state: OpaquePointer
    /// True when `state` must be (re)initialised before the next update: on creation, after
    /// `finalize()`. Initialising lazily keeps `finalize()` from paying for a digest never made.
    private var needsInit = true
    /// False inside `Blake2b.digest256(_:)`, which finalizes itself: a `finalize()` there would
    /// silently make the returned digest that of the bytes fed after it.
    private let finalizeAllowed: Bool

    fileprivate init(state: UnsafeMutableRawPointer, finalizeAllowed: Bool) {
        self.state = OpaquePointer(state)
        self.finalizeAllowed = finalizeAllowed
    }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        startIfNeeded()
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        _ = crypto_generichash_update(state, base.assumingMemoryBound(to: UInt8.self), UInt64(bytes.count))
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    public mutating func update(_ digest: Digest256) {
        digest.withUnsafeBytes { update($0) }
    }

    /// Feeds the eight big-endian bytes of `value` (the wire order of terms and indexes).
    public mutating func update(bigEndian value: UInt64) {
        Swift.withUnsafeBytes(of: value.bigEndian) { update($0) }
    }

    public mutating func update(_ byte: UInt8) {
        Swift.withUnsafeBytes(of: byte) { update($0) }
    }

    /// The digest of everything fed since the last `finalize()` (or creation); the hasher is then
    /// ready for the next digest. Not available inside `Blake2b.digest256(_:)` (a programmer error).
    public mutating func finalize() -> Digest256 {
        precondition(
            finalizeAllowed, "Blake2b.digest256 finalizes the hasher itself; use Blake2b.withHasher to finalize")
        return finish()
    }

    fileprivate mutating func finish() -> Digest256 {
        startIfNeeded()
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let rc = Swift.withUnsafeMutableBytes(of: &words) { out in
            crypto_generichash_final(state, out.baseAddress!.assumingMemoryBound(to: UInt8.self), Digest256.byteCount)
        }
        precondition(rc == 0, "crypto_generichash_final failed with \(rc)")
        needsInit = true
        return Digest256(words: words)
    }

    private mutating func startIfNeeded() {
        guard needsInit else { return }
        let rc = crypto_generichash_init(state, nil, 0, Digest256.byteCount)
        precondition(rc == 0, "crypto_generichash_init failed with \(rc)")
        needsInit = false
    }
}

extension Blake2b {
    /// The BLAKE2b-256 digest of what `body` feeds the hasher. The state lives on the stack:
    /// no heap allocation. `body` MUST NOT call `finalize()` (it traps: that would end the digest early).
    public static func digest256<E: Error>(_ body: (inout Blake2bHasher) throws(E) -> Void) throws(E) -> Digest256 {
        try withStackState(finalizeAllowed: false) { (hasher) throws(E) -> Digest256 in
            try body(&hasher)
            return hasher.finish()
        }
    }

    /// Runs `body` with a hasher whose state lives on the stack for the duration of the call; for
    /// callers that make several digests in a row with one state.
    public static func withHasher<R, E: Error>(_ body: (inout Blake2bHasher) throws(E) -> R) throws(E) -> R {
        try withStackState(finalizeAllowed: true, body)
    }

    private static func withStackState<R, E: Error>(
        finalizeAllowed: Bool, _ body: (inout Blake2bHasher) throws(E) -> R
    ) throws(E) -> R {
        precondition(sodiumReadyForHashing)
        // Asking for 64-byte alignment directly would move the buffer to the heap (the standard
        // library stack-allocates only up to 16-byte alignment), so over-allocate and align up.
        return try withUnsafeTemporaryAllocation(
            byteCount: Blake2bHasher.stateBytesMax + Blake2bHasher.stateAlignmentBytes, alignment: 16
        ) { (buffer) throws(E) -> R in
            let state = buffer.baseAddress!.alignedUp(toMultipleOf: Blake2bHasher.stateAlignmentBytes)
            var hasher = Blake2bHasher(state: state, finalizeAllowed: finalizeAllowed)
            return try body(&hasher)
        }
    }
}

/// libsodium initialised (it picks the fastest BLAKE2b compression function for the CPU), and
/// the state size checked, once per process. `sodium_init` takes a mutex on every call, which
/// would cost a noticeable share of a short hash; a global `let` is initialised once and read
/// afterwards with a single atomic load.
private let sodiumReadyForHashing: Bool = {
    Sodium.ensureInitialized()
    let stateBytes = crypto_generichash_statebytes()
    precondition(
        stateBytes <= Blake2bHasher.stateBytesMax,
        "crypto_generichash_statebytes() is \(stateBytes), more than the \(Blake2bHasher.stateBytesMax) reserved")
    return true
}()
