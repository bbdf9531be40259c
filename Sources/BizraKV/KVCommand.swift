import BizraRaft

/// The key-value state machine that bizra-consensus replicates through Raft: BIZRA's
/// governance decisions, configuration and cluster metadata live in it.
///
/// Pure: commands arrive as committed Raft entries and are applied in log order; reads run
/// against the applied state after a ReadIndex. Its data model follows etcd's v3 MVCC surface
/// without history: every mutation bumps one cluster-wide `revision`; each key remembers the
/// revision that created it and the one that last modified it, which is what `cas` compares and
/// what a lock holder uses as a fencing token.
package enum KV {
    package typealias Revision = UInt64
    package typealias LeaseID = UInt64

    /// Limits of the state machine; a command beyond one is refused (`Result.refused`).
    package enum Limits {
        package static let keyBytesMax = 4_096
        package static let valueBytesMax = 1_024 * 1_024
        package static let keysMax = 1_000_000
        package static let leasesMax = 100_000
        /// Clients whose last answer is remembered for deduplication (oldest forgotten first).
        package static let sessionsMax = 16_384
        /// Keys one `list` returns at most.
        package static let listKeysMax = 10_000
        /// The longest lease.
        package static let leaseTTLMillisMax: UInt64 = 24 * 3_600 * 1_000
    }

    /// One replicated operation.
    package enum Operation: Equatable, Sendable {
        /// Sets `key` to `value`, attached to `lease` if non-zero.
        case put(key: [UInt8], value: [UInt8], lease: LeaseID)
        case delete(key: [UInt8])
        /// Sets `key` to `value` only if its modification revision is `expected` (0 = absent).
        case compareAndSwap(key: [UInt8], expected: Revision, value: [UInt8], lease: LeaseID)
        /// Creates a lease of `ttlMillis`; its id is the revision of the grant.
        case leaseGrant(ttlMillis: UInt64)
        /// Ends a lease and deletes its keys (asked by a client).
        case leaseRevoke(LeaseID)
        /// Ends a lease whose time ran out (proposed by the leader's shell, which keeps the timers).
        case leaseExpire(LeaseID)
    }

    /// An operation with the identity of the request that carries it: applying the same
    /// (client, sequence) twice returns the first answer and changes nothing (exactly once).
    package struct Command: Equatable, Sendable {
        package var client: UInt64
        package var sequence: UInt64
        package var operation: Operation

        package init(client: UInt64, sequence: UInt64, operation: Operation) {
            self.client = client
            self.sequence = sequence
            self.operation = operation
        }
    }

    /// What applying a command produced.
    package enum Result: Equatable, Sendable {
        /// The write happened at `revision`.
        case ok(revision: Revision)
        /// `delete` or `leaseRevoke` of something absent (nothing changed).
        case notFound
        /// `cas` found another modification revision (0 = the key is absent).
        case mismatch(current: Revision)
        case leaseGranted(id: LeaseID, ttlMillis: UInt64)
        /// The command is invalid or over a limit; nothing changed.
        case refused(String)
        /// A retry older than the client's latest answered request: it was applied before, and
        /// its answer is no longer kept.
        case staleRetry
    }

    /// A change, published on the watch topic.
    package struct Event: Equatable, Sendable {
        package enum Kind: UInt8, Sendable { case put = 1, delete = 2 }
        package var kind: Kind
        package var key: [UInt8]
        package var value: [UInt8]
        package var revision: Revision
    }

    /// A key's current state.
    package struct Item: Equatable, Sendable {
        package var value: [UInt8]
        package var createRevision: Revision
        package var modRevision: Revision
        /// Writes since creation (1 after the first put).
        package var version: UInt64
        package var lease: LeaseID
    }
}

// MARK: Encoding (the payload of a Raft entry)

extension KV.Command {
    /// `client u64 | sequence u64 | op u8 | fields`, byte strings u32-length-prefixed.
    package var encoded: [UInt8] {
        var writer = Raft.ByteWriter(capacity: 64)
        writer.u64(client)
        writer.u64(sequence)
        switch operation {
        case .put(let key, let value, let lease):
            writer.u8(1)
            writer.blob(key)
            writer.blob(value)
            writer.u64(lease)
        case .delete(let key):
            writer.u8(2)
            writer.blob(key)
        case .compareAndSwap(let key, let expected, let value, let lease):
            writer.u8(3)
            writer.blob(key)
            writer.u64(expected)
            writer.blob(value)
            writer.u64(lease)
        case .leaseGrant(let ttl):
            writer.u8(4)
            writer.u64(ttl)
        case .leaseRevoke(let id):
            writer.u8(5)
            writer.u64(id)
        case .leaseExpire(let id):
            writer.u8(6)
            writer.u64(id)
        }
        return writer.bytes
    }

    package init(decoding bytes: [UInt8]) throws(Raft.CodecError) {
        var reader = Raft.ByteReader(bytes)
        client = try reader.u64("command.client")
        sequence = try reader.u64("command.sequence")
        let op = try reader.u8("command.op")
        func key() throws(Raft.CodecError) -> [UInt8] { try reader.blob("command.key", max: KV.Limits.keyBytesMax) }
        func value() throws(Raft.CodecError) -> [UInt8] {
            try reader.blob("command.value", max: KV.Limits.valueBytesMax)
        }
        switch op {
        case 1:
            let k = try key()
            let v = try value()
            operation = .put(key: k, value: v, lease: try reader.u64("command.lease"))
        case 2:
            operation = .delete(key: try key())
        case 3:
            let k = try key()
            let expected = try reader.u64("command.expected")
            let v = try value()
            operation = .compareAndSwap(key: k, expected: expected, value: v, lease: try reader.u64("command.lease"))
        case 4: operation = .leaseGrant(ttlMillis: try reader.u64("command.ttl"))
        case 5: operation = .leaseRevoke(try reader.u64("command.lease"))
        case 6: operation = .leaseExpire(try reader.u64("command.lease"))
        default: throw Raft.CodecError(field: "command.op", problem: "unknown operation \(op)")
        }
        try reader.expectEnd("command")
    }
}
