import BizraRaft

extension KV {
    /// A lease: keys attached to it are deleted when it is revoked or expires.
    package struct Lease: Equatable, Sendable {
        package var ttlMillis: UInt64
        package var keys: Set<[UInt8]>
    }

    /// The answer last given to one client, for deduplication of retries.
    struct Session: Equatable, Sendable {
        var sequence: UInt64
        var result: Result
        /// The Raft index of the client's last command (least recently used is forgotten first).
        var lastIndex: Raft.Index
    }

    /// The replicated state: applied in log order, identical on every member.
    package struct Store: Equatable, Sendable {
        package private(set) var revision: Revision = 0
        package private(set) var items: [[UInt8]: Item] = [:]
        package private(set) var leases: [LeaseID: Lease] = [:]
        var sessions: [UInt64: Session] = [:]
        /// The last Raft index applied.
        package private(set) var appliedIndex: Raft.Index = 0

        package init() {}

        // MARK: Applying

        /// Applies one committed entry. Entries that are not application commands (a leader's
        /// no-op, a configuration change) only advance `appliedIndex`. Returns the decoded command
        /// with its result and events, or nil for such entries.
        package mutating func apply(_ entry: Raft.Entry) -> (command: Command?, result: Result, events: [Event])? {
            precondition(entry.index > appliedIndex, "applying index \(entry.index) after \(appliedIndex)")
            appliedIndex = entry.index
            guard entry.kind == .normal else { return nil }
            guard let command = try? Command(decoding: entry.payload) else {
                return (nil, .refused("the entry is not a KV command"), [])
            }
            let (result, events) = apply(command, at: entry.index)
            return (command, result, events)
        }

        /// Applies a command with exactly-once semantics per (client, sequence); client 0 is not
        /// deduplicated (the shell's own lease expiries).
        mutating func apply(_ command: Command, at index: Raft.Index) -> (Result, [Event]) {
            if command.client != 0, let session = sessions[command.client] {
                if command.sequence == session.sequence { return (session.result, []) }
                if command.sequence < session.sequence { return (.staleRetry, []) }
            }
            let (result, events) = execute(command.operation)
            if command.client != 0 { remember(command, result: result, index: index) }
            return (result, events)
        }

        private mutating func remember(_ command: Command, result: Result, index: Raft.Index) {
            sessions[command.client] = Session(sequence: command.sequence, result: result, lastIndex: index)
            guard sessions.count > Limits.sessionsMax else { return }
            let oldest = sessions.min { ($0.value.lastIndex, $0.key) < ($1.value.lastIndex, $1.key) }!
            sessions[oldest.key] = nil
        }

        private mutating func execute(_ operation: Operation) -> (Result, [Event]) {
            switch operation {
            case .put(let key, let value, let lease):
                if let refusal = check(key: key, value: value, lease: lease) { return (.refused(refusal), []) }
                return write(key, value, lease: lease)
            case .delete(let key):
                guard items[key] != nil else { return (.notFound, []) }
                revision += 1
                return (.ok(revision: revision), [remove(key)])
            case .compareAndSwap(let key, let expected, let value, let lease):
                if let refusal = check(key: key, value: value, lease: lease) { return (.refused(refusal), []) }
                let current = items[key]?.modRevision ?? 0
                guard current == expected else { return (.mismatch(current: current), []) }
                return write(key, value, lease: lease)
            case .leaseGrant(let ttl):
                guard (1...Limits.leaseTTLMillisMax).contains(ttl) else {
                    return (.refused("a lease TTL must be 1...\(Limits.leaseTTLMillisMax) ms"), [])
                }
                guard leases.count < Limits.leasesMax else { return (.refused("\(Limits.leasesMax) leases exist"), []) }
                revision += 1
                leases[revision] = Lease(ttlMillis: ttl, keys: [])
                return (.leaseGranted(id: revision, ttlMillis: ttl), [])
            case .leaseRevoke(let id), .leaseExpire(let id):
                guard let lease = leases.removeValue(forKey: id) else { return (.notFound, []) }
                revision += 1
                let events = lease.keys.sorted { $0.lexicographicallyPrecedes($1) }.map { remove($0) }
                return (.ok(revision: revision), events)
            }
        }

        private func check(key: [UInt8], value: [UInt8], lease: LeaseID) -> String? {
            if key.isEmpty || key.count > Limits.keyBytesMax { return "a key must be 1...\(Limits.keyBytesMax) bytes" }
            if value.count > Limits.valueBytesMax { return "a value must be at most \(Limits.valueBytesMax) bytes" }
            if lease != 0 && leases[lease] == nil { return "lease \(lease) does not exist" }
            if items[key] == nil && items.count >= Limits.keysMax { return "the store holds \(Limits.keysMax) keys" }
            return nil
        }

        private mutating func write(_ key: [UInt8], _ value: [UInt8], lease: LeaseID) -> (Result, [Event]) {
            revision += 1
            var item =
                items[key] ?? Item(value: [], createRevision: revision, modRevision: revision, version: 0, lease: 0)
            if item.lease != lease {
                if item.lease != 0 { leases[item.lease]?.keys.remove(key) }
                if lease != 0 { leases[lease]?.keys.insert(key) }
            }
            item.value = value
            item.modRevision = revision
            item.version += 1
            item.lease = lease
            items[key] = item
            return (.ok(revision: revision), [Event(kind: .put, key: key, value: value, revision: revision)])
        }

        /// Deletes `key` at the current revision; returns its event.
        private mutating func remove(_ key: [UInt8]) -> Event {
            if let item = items.removeValue(forKey: key), item.lease != 0 { leases[item.lease]?.keys.remove(key) }
            return Event(kind: .delete, key: key, value: [], revision: revision)
        }

        // MARK: Reading (after a ReadIndex)

        package func get(_ key: [UInt8]) -> Item? { items[key] }

        /// Keys starting with `prefix`, in byte order, at most `limit` (capped at `Limits.listKeysMax`).
        package func list(prefix: [UInt8], limit: Int) -> [(key: [UInt8], item: Item)] {
            let matching = items.filter { $0.key.starts(with: prefix) }.sorted {
                $0.key.lexicographicallyPrecedes($1.key)
            }
            return matching.prefix(max(0, min(limit, Limits.listKeysMax))).map { ($0.key, $0.value) }
        }
    }
}

// MARK: Snapshots

extension KV.Store {
    /// The whole state, deterministic (every map sorted), for `Raft.Node.compact(data:)`.
    package var snapshotData: [UInt8] {
        var writer = Raft.ByteWriter(capacity: 64 + items.count * 64)
        writer.u64(appliedIndex)
        writer.u64(revision)
        let keys = items.keys.sorted { $0.lexicographicallyPrecedes($1) }
        writer.u32(UInt32(keys.count))
        for key in keys {
            let item = items[key]!
            writer.blob(key)
            writer.blob(item.value)
            writer.u64(item.createRevision)
            writer.u64(item.modRevision)
            writer.u64(item.version)
            writer.u64(item.lease)
        }
        let leaseIDs = leases.keys.sorted()
        writer.u32(UInt32(leaseIDs.count))
        for id in leaseIDs {
            writer.u64(id)
            writer.u64(leases[id]!.ttlMillis)
        }
        let clients = sessions.keys.sorted()
        writer.u32(UInt32(clients.count))
        for client in clients {
            let session = sessions[client]!
            writer.u64(client)
            writer.u64(session.sequence)
            writer.u64(session.lastIndex)
            KV.Store.encode(session.result, into: &writer)
        }
        return writer.bytes
    }

    /// Restores a state from `snapshotData`; throws on malformed bytes.
    package init(snapshot bytes: [UInt8]) throws(Raft.CodecError) {
        self.init()
        if bytes.isEmpty { return }  // the bootstrap snapshot
        var reader = Raft.ByteReader(bytes)
        appliedIndex = try reader.u64("kv.appliedIndex")
        revision = try reader.u64("kv.revision")
        let count = Int(try reader.u32("kv.items.count"))
        guard count <= KV.Limits.keysMax else {
            throw Raft.CodecError(field: "kv.items.count", problem: "\(count) keys")
        }
        for _ in 0..<count {
            let key = try reader.blob("kv.key", max: KV.Limits.keyBytesMax)
            let value = try reader.blob("kv.value", max: KV.Limits.valueBytesMax)
            let item = KV.Item(
                value: value, createRevision: try reader.u64("kv.create"), modRevision: try reader.u64("kv.mod"),
                version: try reader.u64("kv.version"), lease: try reader.u64("kv.lease"))
            items[key] = item
        }
        let leaseCount = Int(try reader.u32("kv.leases.count"))
        guard leaseCount <= KV.Limits.leasesMax else {
            throw Raft.CodecError(field: "kv.leases.count", problem: "\(leaseCount) leases")
        }
        for _ in 0..<leaseCount {
            let id = try reader.u64("kv.lease.id")
            leases[id] = KV.Lease(ttlMillis: try reader.u64("kv.lease.ttl"), keys: [])
        }
        for (key, item) in items where item.lease != 0 {
            guard leases[item.lease] != nil else {
                throw Raft.CodecError(field: "kv.items", problem: "a key is attached to missing lease \(item.lease)")
            }
            leases[item.lease]!.keys.insert(key)
        }
        let sessionCount = Int(try reader.u32("kv.sessions.count"))
        guard sessionCount <= KV.Limits.sessionsMax else {
            throw Raft.CodecError(field: "kv.sessions.count", problem: "\(sessionCount)")
        }
        for _ in 0..<sessionCount {
            let client = try reader.u64("kv.session.client")
            let sequence = try reader.u64("kv.session.sequence")
            let lastIndex = try reader.u64("kv.session.lastIndex")
            sessions[client] = KV.Session(
                sequence: sequence, result: try KV.Store.decodeResult(from: &reader), lastIndex: lastIndex)
        }
        try reader.expectEnd("kv snapshot")
    }

    static func encode(_ result: KV.Result, into writer: inout Raft.ByteWriter) {
        switch result {
        case .ok(let revision):
            writer.u8(1)
            writer.u64(revision)
        case .notFound: writer.u8(2)
        case .mismatch(let current):
            writer.u8(3)
            writer.u64(current)
        case .leaseGranted(let id, let ttl):
            writer.u8(4)
            writer.u64(id)
            writer.u64(ttl)
        case .refused(let why):
            writer.u8(5)
            writer.blob(Array(why.utf8))
        case .staleRetry: writer.u8(6)
        }
    }

    static func decodeResult(from reader: inout Raft.ByteReader) throws(Raft.CodecError) -> KV.Result {
        let tag = try reader.u8("result.tag")
        switch tag {
        case 1: return .ok(revision: try reader.u64("result.revision"))
        case 2: return .notFound
        case 3: return .mismatch(current: try reader.u64("result.current"))
        case 4: return .leaseGranted(id: try reader.u64("result.lease"), ttlMillis: try reader.u64("result.ttl"))
        case 5: return .refused(String(decoding: try reader.blob("result.reason", max: 4_096), as: UTF8.self))
        case 6: return .staleRetry
        default: throw Raft.CodecError(field: "result.tag", problem: "unknown result \(tag)")
        }
    }
}
