/// The client protocol of the `consensus` bus service: JSON requests and replies, shared by the
/// component (Plugins/Consensus) and the `bizra kv` / `bizra consensus` commands. Specified in
/// docs/PROTOCOL.md ("Consensus service"). Keys and values are UTF-8 strings in this form.
extension KV {
    /// The request types of the `consensus` service.
    package enum RequestType {
        /// Key-value operations: `KV.Request`, answered with `KV.Reply`.
        package static let kv = "consensus.kv"
        /// This member's view: `KV.Request` (op ignored), answered with `KV.StatusReply`.
        package static let status = "consensus.status"
        /// Membership and leadership: `KV.Request` with an admin op, answered with `KV.Reply`.
        package static let admin = "consensus.admin"
        /// An inclusion proof of the entry that last wrote `key`: `KV.Request`, answered with a
        /// `KV.Reply` whose `proof` is set.
        package static let proof = "consensus.proof"
        /// Take a snapshot now: answered with a `KV.Reply` whose `index` names it (the file
        /// `snap/<index>.snap` in the member's data directory appears once it is durable).
        package static let snapshot = "consensus.snapshot"
        /// Read part of a snapshot file this member holds (`KV.Request` with `index` and
        /// `offset`), answered with a `KV.Reply` whose `chunk` is base64 and `size` the file's
        /// length: how `bizra consensus snapshot save` copies it from another host.
        package static let snapshotRead = "consensus.snapshot-read"
        /// Raft messages between members (directed, one way; binary `Raft.Message` encoding).
        package static let raft = "raft.message"
    }

    /// The most bytes one `snapshot-read` reply carries (base64 makes it 4/3 larger, well inside
    /// the bus's 1 MiB frame).
    package static let snapshotChunkBytesMax = 256 << 10

    /// The topic prefix of watch events; an event for key K is published on `raft.watch.K`.
    package static let watchTopicPrefix = "raft.watch."

    /// One request. `op` is one of: put, get, delete, cas, list, lease-grant, lease-revoke,
    /// lease-keepalive, watch-history (kv); transfer-leader, add-member, remove-member,
    /// set-weight (admin).
    package struct Request: Codable, Equatable, Sendable {
        package var op: String
        package var key: String?
        package var value: String?
        /// cas: the modification revision the key must have (0 = the key must be absent).
        package var expected: UInt64?
        /// put/cas: attach to this lease; lease-revoke/keepalive: the lease.
        package var lease: UInt64?
        package var ttlMillis: UInt64?
        /// list, watch-history: the key prefix and the most keys (events) returned.
        package var prefix: String?
        package var limit: Int?
        /// watch-history: the first revision wanted.
        package var fromRevision: UInt64?
        /// snapshot-read: the snapshot (its log index) and the byte offset to read from.
        package var index: UInt64?
        package var offset: UInt64?
        /// Exactly-once identity of a write: a client id (non-zero) and a sequence increasing per
        /// client. A retry MUST reuse both; the state machine answers it with the first result.
        package var client: UInt64?
        package var sequence: UInt64?
        /// admin: the node (bus-config id) and weight.
        package var node: String?
        package var weight: UInt64?

        package init(op: String) { self.op = op }
    }

    /// The reply to a `Request`.
    package struct Reply: Codable, Equatable, Sendable {
        package var status: Status
        /// True when the outcome is certain (it happened, or it did not and never will); false
        /// when the write may or may not have been applied (retry with the same client and
        /// sequence to learn which).
        package var definite: Bool
        /// The store's revision after a write (for reads: the key's modification revision is in
        /// `modRevision`; a cas mismatch gives the current one here).
        package var revision: UInt64?
        package var value: String?
        package var createRevision: UInt64?
        package var modRevision: UInt64?
        package var version: UInt64?
        package var lease: UInt64?
        package var ttlMillis: UInt64?
        package var items: [Item]?
        /// The leader this member knows (bus-config id), when relevant.
        package var leader: String?
        package var error: String?
        package var proof: InclusionProof?
        /// snapshot: the log index of the snapshot taken.
        package var index: UInt64?
        /// watch-history: the events (with `revision` the last revision the page covers).
        package var events: [WatchEvent]?
        /// watch-history: the page was cut; ask again from `revision + 1`.
        package var more: Bool?
        /// watch-history refused as compacted: the lowest revision this member can replay from.
        package var floor: UInt64?
        /// snapshot-read: base64 of the bytes from `offset` (at most `snapshotChunkBytesMax`),
        /// and the length of the whole file.
        package var chunk: String?
        package var size: UInt64?

        package init(status: Status, definite: Bool = true) {
            self.status = status
            self.definite = definite
        }

        package static func failed(_ why: String, leader: String? = nil) -> Reply {
            var reply = Reply(status: .failed)
            reply.error = why
            reply.leader = leader
            return reply
        }

        package static func unknown(_ why: String) -> Reply {
            var reply = Reply(status: .unknown, definite: false)
            reply.error = why
            return reply
        }

        package enum Status: String, Codable, Equatable, Sendable {
            case ok
            case notFound = "not_found"
            case casMismatch = "cas_mismatch"
            /// Definitely not applied (refused, no leader, invalid).
            case failed
            /// May or may not have been applied.
            case unknown
            /// An admin op sent to a follower: send it to `leader`.
            case notLeader = "not_leader"
        }

        package struct Item: Codable, Equatable, Sendable {
            package var key: String
            package var value: String
            package var createRevision: UInt64
            package var modRevision: UInt64
            package var version: UInt64
            package var lease: UInt64

            package init(key: [UInt8], item: KV.Item) {
                self.key = String(decoding: key, as: UTF8.self)
                value = String(decoding: item.value, as: UTF8.self)
                createRevision = item.createRevision
                modRevision = item.modRevision
                version = item.version
                lease = item.lease
            }
        }
    }

    /// A watch event as published on `raft.watch.<key>` (JSON).
    package struct WatchEvent: Codable, Equatable, Sendable {
        /// "put" or "delete".
        package var type: String
        package var key: String
        package var value: String
        package var revision: UInt64
        /// The Raft index of the entry that caused it.
        package var index: UInt64

        package init(_ event: Event, index: UInt64) {
            type = event.kind == .put ? "put" : "delete"
            key = String(decoding: event.key, as: UTF8.self)
            value = String(decoding: event.value, as: UTF8.self)
            revision = event.revision
            self.index = index
        }
    }

    /// One member's view of the cluster (`consensus.status`).
    package struct StatusReply: Codable, Equatable, Sendable {
        package var node: String
        package var id: UInt64
        package var role: String
        package var term: UInt64
        package var leader: String?
        package var commit: UInt64
        package var applied: UInt64
        package var lastIndex: UInt64
        package var firstIndex: UInt64
        /// Hex BLAKE2b-256 Merkle root of the applied entries 1...merkleSize.
        package var merkleRoot: String
        package var merkleSize: UInt64
        package var revision: UInt64
        package var keys: Int
        package var joint: Bool
        package var members: [Member]
        /// Protocol-level messages dropped because their `from` did not match the verified sender.
        package var forgedDropped: UInt64

        package struct Member: Codable, Equatable, Sendable {
            package var node: String
            package var id: UInt64
            package var weight: UInt64
            /// Weight in the outgoing configuration during joint consensus.
            package var outgoingWeight: UInt64?
            package var match: UInt64?

            package init(node: String, id: UInt64, weight: UInt64, outgoingWeight: UInt64?, match: UInt64?) {
                self.node = node
                self.id = id
                self.weight = weight
                self.outgoingWeight = outgoingWeight
                self.match = match
            }
        }

        package init(
            node: String, id: UInt64, role: String, term: UInt64, leader: String?, commit: UInt64, applied: UInt64,
            lastIndex: UInt64, firstIndex: UInt64, merkleRoot: String, merkleSize: UInt64, revision: UInt64,
            keys: Int, joint: Bool, members: [Member], forgedDropped: UInt64
        ) {
            self.node = node
            self.id = id
            self.role = role
            self.term = term
            self.leader = leader
            self.commit = commit
            self.applied = applied
            self.lastIndex = lastIndex
            self.firstIndex = firstIndex
            self.merkleRoot = merkleRoot
            self.merkleSize = merkleSize
            self.revision = revision
            self.keys = keys
            self.joint = joint
            self.members = members
            self.forgedDropped = forgedDropped
        }
    }
}
