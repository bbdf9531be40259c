import BizraCrypto
import BizraKV
import BizraRaft
import Foundation

/// The client API of the `consensus` service (docs/PROTOCOL.md, "Consensus service"): writes are
/// proposed through Raft and answered when they apply; reads are linearizable through ReadIndex;
/// a follower's proposals and reads are forwarded to the leader by the core itself.
extension ConsensusServer {
    enum Answer: Sendable {
        case reply(KV.Reply)
        /// Send the same request to this node's consensus (a lease keepalive on a follower).
        case forward(to: String)
    }

    func handle(_ request: KV.Request) async -> Answer {
        if request.client ?? 0 != 0, request.sequence == nil {
            return .reply(.failed("a request with a client id needs a sequence"))
        }
        switch request.op {
        case "get", "list":
            if request.op == "get", request.key == nil { return .reply(.failed("get needs a key")) }
            return .reply(await read(request))
        case "lease-keepalive":
            guard let lease = request.lease else { return .reply(.failed("lease-keepalive needs a lease")) }
            return keepalive(lease)
        case "watch-history":
            return .reply(watchHistoryPage(request))
        default:
            switch Self.operation(for: request) {
            case .failure(let why): return .reply(.failed(why.text))
            case .success(let operation): return .reply(await propose(operation, request))
            }
        }
    }

    /// The replicated operation a write request asks for, or why it is malformed.
    static func operation(for request: KV.Request) -> Result<KV.Operation, FailureReason> {
        let key = request.key.map { Array($0.utf8) }
        let value = request.value.map { Array($0.utf8) }
        switch request.op {
        case "put":
            guard let key, let value else { return .failure(FailureReason("put needs a key and a value")) }
            return .success(.put(key: key, value: value, lease: request.lease ?? 0))
        case "delete":
            guard let key else { return .failure(FailureReason("delete needs a key")) }
            return .success(.delete(key: key))
        case "cas":
            guard let key, let value, let expected = request.expected else {
                return .failure(FailureReason("cas needs a key, a value and the expected modification revision"))
            }
            return .success(.compareAndSwap(key: key, expected: expected, value: value, lease: request.lease ?? 0))
        case "lease-grant":
            guard let ttl = request.ttlMillis else { return .failure(FailureReason("lease-grant needs ttlMillis")) }
            return .success(.leaseGrant(ttlMillis: ttl))
        case "lease-revoke":
            guard let lease = request.lease else { return .failure(FailureReason("lease-revoke needs a lease")) }
            return .success(.leaseRevoke(lease))
        default:
            return .failure(
                FailureReason(
                    "unknown op \(request.op); ops: put get delete cas list lease-grant lease-revoke lease-keepalive watch-history"
                ))
        }
    }

    struct FailureReason: Error, Sendable {
        let text: String
        init(_ text: String) { self.text = text }
    }

    // MARK: Writes

    private func propose(_ operation: KV.Operation, _ request: KV.Request) async -> KV.Reply {
        let command = KV.Command(client: request.client ?? 0, sequence: request.sequence ?? 0, operation: operation)
        return await withCheckedContinuation { continuation in
            let sequence = nextProposal
            nextProposal += 1
            let payload = command.encoded
            switch node.propose(payload, id: Raft.ProposalID(node: me, sequence: sequence)) {
            case .failure(let refusal):
                continuation.resume(returning: .failed(refusal.description, leader: members.name(of: node.leader)))
            case .success(let acceptance):
                var waiter = Waiter(continuation: continuation, started: .now)
                if command.client != 0 { waiter.payload = payload }
                if case .forwarded = acceptance { waiter.forwarded = true }
                proposals[sequence] = waiter
                driveSoon()
            }
        }
    }

    /// A membership or weight change, answered once it applies (joint consensus, when needed,
    /// is entered and left by the core).
    private func proposeChange(_ change: Raft.ConfigChange) async -> KV.Reply {
        await withCheckedContinuation { continuation in
            let sequence = nextProposal
            nextProposal += 1
            switch node.proposeConfigChange(change, id: Raft.ProposalID(node: me, sequence: sequence)) {
            case .failure(let refusal):
                continuation.resume(returning: .failed(refusal.description, leader: members.name(of: node.leader)))
            case .success:
                proposals[sequence] = Waiter(continuation: continuation, started: .now)
                drive()
            }
        }
    }

    static func reply(for result: KV.Result) -> KV.Reply {
        switch result {
        case .ok(let revision):
            var reply = KV.Reply(status: .ok)
            reply.revision = revision
            return reply
        case .notFound: return KV.Reply(status: .notFound)
        case .mismatch(let current):
            var reply = KV.Reply(status: .casMismatch)
            reply.revision = current
            reply.modRevision = current
            return reply
        case .leaseGranted(let id, let ttl):
            var reply = KV.Reply(status: .ok)
            reply.revision = id
            reply.lease = id
            reply.ttlMillis = ttl
            return reply
        case .refused(let why): return .failed(why)
        case .staleRetry:
            return .unknown(
                "this retry is older than the client's latest request: it was applied before, and its first answer is no longer kept"
            )
        }
    }

    // MARK: Reads

    private func read(_ request: KV.Request) async -> KV.Reply {
        await withCheckedContinuation { continuation in
            let context = nextRead
            nextRead += 1
            reads[context] = PendingRead(request: request, continuation: continuation, started: .now)
            node.readIndex(context: context)
            driveSoon()
        }
    }

    /// Answers a confirmed read from the applied state.
    func serve(_ request: KV.Request) -> KV.Reply {
        var reply = KV.Reply(status: .ok)
        reply.revision = kv.revision
        if request.op == "list" {
            let prefix = Array((request.prefix ?? request.key ?? "").utf8)
            reply.items = kv.list(prefix: prefix, limit: request.limit ?? KV.Limits.listKeysMax).map {
                KV.Reply.Item(key: $0.key, item: $0.item)
            }
            return reply
        }
        guard let item = kv.get(Array((request.key ?? "").utf8)) else {
            var missing = KV.Reply(status: .notFound)
            missing.revision = kv.revision
            return missing
        }
        reply.value = String(decoding: item.value, as: UTF8.self)
        reply.createRevision = item.createRevision
        reply.modRevision = item.modRevision
        reply.version = item.version
        reply.lease = item.lease
        return reply
    }

    // MARK: Leases

    /// Keeps a lease alive. Only the leader's timers matter, so a follower forwards the request.
    private func keepalive(_ id: KV.LeaseID) -> Answer {
        guard node.role == .leader else {
            guard let leader = node.leader, leader != me, let name = members.name(of: leader) else {
                return .reply(.failed("no leader is known; retry after an election"))
            }
            return .forward(to: name)
        }
        guard let lease = kv.leases[id] else { return .reply(KV.Reply(status: .notFound)) }
        leaseDeadlines[id] = ContinuousClock.now.advanced(by: .milliseconds(Int(lease.ttlMillis)))
        expiryProposed[id] = nil
        var reply = KV.Reply(status: .ok)
        reply.lease = id
        reply.ttlMillis = lease.ttlMillis
        reply.revision = kv.revision
        return .reply(reply)
    }

    /// Keeps lease timers in step with what applied.
    func track(_ operation: KV.Operation, result: KV.Result) {
        switch (operation, result) {
        case (.leaseGrant, .leaseGranted(let id, let ttl)):
            leaseDeadlines[id] = ContinuousClock.now.advanced(by: .milliseconds(Int(ttl)))
        case (.leaseRevoke(let id), .ok), (.leaseExpire(let id), .ok):
            leaseDeadlines[id] = nil
            expiryProposed[id] = nil
        default: break
        }
    }

    /// A new leader gives every lease a full TTL from now (as etcd's lessor does on promotion):
    /// it cannot know how long the old leader last saw a keepalive.
    func resetLeaseDeadlines() {
        let now = ContinuousClock.now
        leaseDeadlines = [:]
        expiryProposed = [:]
        for (id, lease) in kv.leases { leaseDeadlines[id] = now.advanced(by: .milliseconds(Int(lease.ttlMillis))) }
    }

    /// On the leader: proposes `leaseExpire` for every lease past its deadline (again after 1 s
    /// if it has not applied by then).
    func expireLeases() {
        let now = ContinuousClock.now
        for id in leaseDeadlines.keys.sorted() {
            guard let deadline = leaseDeadlines[id], deadline <= now, kv.leases[id] != nil else { continue }
            if let last = expiryProposed[id], now - last < .seconds(1) { continue }
            expiryProposed[id] = now
            let sequence = nextProposal
            nextProposal += 1
            let command = KV.Command(client: 0, sequence: 0, operation: .leaseExpire(id))
            if case .success = node.propose(command.encoded, id: Raft.ProposalID(node: me, sequence: sequence)) {
                log.info("lease expired", metadata: ["lease": "\(id)"])
            }
        }
    }

    /// Ends client waits that have had no outcome for `requestTimeoutMillis`: writes `unknown`,
    /// reads `failed` (a read changes nothing).
    func expireWaiters() {
        let now = ContinuousClock.now
        let limit = Duration.milliseconds(settings.requestTimeoutMillis)
        for (sequence, waiter) in proposals where now - waiter.started > limit {
            proposals[sequence] = nil
            waiter.continuation.resume(returning: .unknown("no outcome within \(settings.requestTimeoutMillis) ms"))
        }
        for (context, read) in reads where now - read.started > limit {
            reads[context] = nil
            read.continuation.resume(
                returning: .failed("the read was not confirmed within \(settings.requestTimeoutMillis) ms"))
        }
        retryLater.removeAll { waiter in
            guard now - waiter.started > limit else { return false }
            waiter.continuation.resume(returning: .unknown("no leader took the write again in time"))
            return true
        }
        confirmedReads.removeAll { pending in
            guard now - pending.read.started > limit else { return false }
            pending.read.continuation.resume(returning: .failed("the read's index was not applied in time"))
            return true
        }
    }

    // MARK: Admin and status

    func admin(_ request: KV.Request) async -> KV.Reply {
        guard node.role == .leader else {
            var reply = KV.Reply(status: .notLeader)
            reply.leader = members.name(of: node.leader)
            reply.error = "membership and leadership changes are made on the leader"
            return reply
        }
        guard let name = request.node, let target = members.id(of: name) else {
            return .failed(
                "\(request.node ?? "(none)") is not a node declared in bus-config (nodes: \(members.names.joined(separator: ", ")))"
            )
        }
        switch request.op {
        case "transfer-leader":
            if target == me { return KV.Reply(status: .ok) }
            if let refusal = node.transferLeadership(to: target) { return .failed(refusal.description) }
            drive()
            return KV.Reply(status: .ok)
        case "add-member":
            let weight = request.weight ?? members.declaredWeight(of: target)
            return await proposeChange(.change([.addVoter(target, weight: weight)]))
        case "remove-member":
            return await proposeChange(.change([.remove(target)]))
        case "set-weight":
            guard let weight = request.weight, weight >= 1 else { return .failed("set-weight needs a weight ≥ 1") }
            return await proposeChange(.change([.setWeight(target, weight: weight)]))
        default:
            return .failed("unknown admin op \(request.op); ops: transfer-leader add-member remove-member set-weight")
        }
    }

    func status() -> KV.StatusReply {
        let status = node.status
        let voters = status.configuration.voters
        let members = status.configuration.members.map { id in
            KV.StatusReply.Member(
                node: self.members.name(of: id) ?? "#\(id)", id: id, weight: voters.incoming.weight(of: id) ?? 0,
                outgoingWeight: voters.isJoint ? voters.outgoing.weight(of: id) ?? 0 : nil,
                match: id == me ? status.lastIndex : status.followers.first { $0.id == id }?.match)
        }
        return KV.StatusReply(
            node: self.members.name(of: me) ?? "", id: me, role: status.role.rawValue, term: status.term,
            leader: self.members.name(of: status.leader), commit: status.commit, applied: status.applied,
            lastIndex: status.lastIndex, firstIndex: status.firstIndex, merkleRoot: status.merkleRoot.hex,
            merkleSize: status.merkleSize, revision: kv.revision, keys: kv.items.count, joint: voters.isJoint,
            members: members, forgedDropped: forgedDropped)
    }
}

// MARK: Watch replay

extension ConsensusServer {
    /// The events this member applied from `fromRevision` on (keys starting with `prefix`), one
    /// page at a time, from its bounded history (`KV.WatchHistory`); refused with the floor when
    /// the revision is older than what the member holds.
    func watchHistoryPage(_ request: KV.Request) -> KV.Reply {
        guard let from = request.fromRevision else { return .failed("watch-history needs fromRevision") }
        let limit = min(max(request.limit ?? KV.WatchHistory.pageEventsMax, 1), KV.WatchHistory.pageEventsMax)
        guard
            let page = watchHistory.page(
                from: from, prefix: request.prefix ?? "", limit: limit, current: kv.revision)
        else {
            var reply = KV.Reply.failed(
                "revision \(from) is compacted on this member: it holds every change from revision \(watchHistory.floor) on "
                    + "(at most the last \(watchHistory.eventsMax) changes or \(watchHistory.bytesMax >> 20) MiB, and none before its snapshot); watch from there, or read "
                    + "the current values with `kv list`")
            reply.floor = watchHistory.floor
            return reply
        }
        var reply = KV.Reply(status: .ok)
        reply.events = page.events
        reply.revision = page.through
        reply.more = page.more
        return reply
    }
}

// MARK: Inclusion proofs

extension ConsensusServer {
    /// The proof that the entry which last wrote `request.key` is in the Merkle tree of this
    /// member's applied entries (see `KV.InclusionProof`).
    func proof(_ request: KV.Request) -> KV.Reply {
        guard let key = request.key else { return .failed("proof needs a key") }
        let keyBytes = Array(key.utf8)
        guard let item = kv.get(keyBytes) else { return KV.Reply(status: .notFound) }
        let index = lastWriteIndex[keyBytes]
        guard let index,
            let entry = node.entry(at: index)
                ?? proofArchive.entries[keyBytes].flatMap({ $0.index == index ? $0 : nil })
        else {
            return .failed(
                "this member does not hold the entry that last wrote \(key) (it installed a snapshot from the leader, or its proof archive was damaged); ask another member with --node, or write the key again"
            )
        }
        // The entry must be the one that wrote the key's current value (a stale archive after a
        // failed write could name an older one), and lie inside the applied prefix.
        guard Self.writes(entry, key: keyBytes, value: item.value) else {
            return .failed(
                "this member's record of the entry that last wrote \(key) is stale; ask another member with --node, or write the key again"
            )
        }
        let size = kv.appliedIndex
        guard index >= 1, index <= size, let leaves = leafFile.leaves(size), leaves[Int(index - 1)] == entry.hash
        else {
            return .failed(
                "this member does not hold the hashes of every entry (it installed a snapshot from the leader); ask another member with --node"
            )
        }
        let root = Raft.Merkle.root(of: leaves)
        let status = node.status
        guard status.merkleSize != size || status.merkleRoot == root else {
            return .failed("the leaf file disagrees with the core's Merkle root; proofs refused")
        }
        let previous = index > 1 ? leaves[Int(index - 2)] : .zero
        var reply = KV.Reply(status: .ok)
        reply.revision = item.modRevision
        reply.proof = KV.InclusionProof(
            node: members.name(of: me) ?? "", key: key, value: String(decoding: item.value, as: UTF8.self),
            entry: KV.InclusionProof.ProvenEntry(entry, previousHash: previous),
            proof: Raft.MerkleProof.make(leaves: leaves, leafIndex: index - 1), root: root)
        return reply
    }

    /// Whether `entry` is a KV put or cas that sets `key` to `value`.
    static func writes(_ entry: Raft.Entry, key: [UInt8], value: [UInt8]) -> Bool {
        guard entry.kind == .normal, let command = try? KV.Command(decoding: entry.payload) else { return false }
        switch command.operation {
        case .put(let k, let v, _), .compareAndSwap(let k, _, let v, _): return k == key && v == value
        default: return false
        }
    }
}
