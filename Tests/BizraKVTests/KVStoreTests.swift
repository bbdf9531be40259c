import BizraRaft
import Testing

@testable import BizraKV

@Suite struct KVStoreTests {
    /// Applies `operation` as the next entry, from `client` with `sequence`.
    struct Applier {
        var store = KV.Store()
        var index: Raft.Index = 0

        @discardableResult
        mutating func apply(_ operation: KV.Operation, client: UInt64 = 1, sequence: UInt64? = nil) -> (
            KV.Result, [KV.Event]
        ) {
            index += 1
            let command = KV.Command(client: client, sequence: sequence ?? index, operation: operation)
            let entry = Raft.Entry(
                term: 1, index: index, kind: .normal, origin: .none, payload: command.encoded, previous: .zero)
            let applied = store.apply(entry)!
            return (applied.result, applied.events)
        }
    }

    static let key = Array("config/strategy".utf8)

    @Test func putGetDeleteAndRevisions() {
        var kv = Applier()
        #expect(kv.apply(.put(key: Self.key, value: [1], lease: 0)).0 == .ok(revision: 1))
        #expect(kv.apply(.put(key: Self.key, value: [2], lease: 0)).0 == .ok(revision: 2))
        let item = kv.store.get(Self.key)!
        #expect(item.value == [2] && item.createRevision == 1 && item.modRevision == 2 && item.version == 2)
        let (result, events) = kv.apply(.delete(key: Self.key))
        #expect(result == .ok(revision: 3))
        #expect(events == [KV.Event(kind: .delete, key: Self.key, value: [], revision: 3)])
        #expect(kv.store.get(Self.key) == nil)
        #expect(kv.apply(.delete(key: Self.key)).0 == .notFound)
    }

    @Test func compareAndSwapComparesTheModificationRevision() {
        var kv = Applier()
        #expect(kv.apply(.compareAndSwap(key: Self.key, expected: 0, value: [1], lease: 0)).0 == .ok(revision: 1))
        #expect(kv.apply(.compareAndSwap(key: Self.key, expected: 0, value: [2], lease: 0)).0 == .mismatch(current: 1))
        #expect(kv.apply(.compareAndSwap(key: Self.key, expected: 1, value: [3], lease: 0)).0 == .ok(revision: 2))
        #expect(kv.store.get(Self.key)!.value == [3])
    }

    @Test func aRetriedCommandAppliesExactlyOnce() {
        var kv = Applier()
        let first = kv.apply(.put(key: Self.key, value: [1], lease: 0), client: 7, sequence: 1).0
        let retry = kv.apply(.put(key: Self.key, value: [1], lease: 0), client: 7, sequence: 1)
        #expect(retry.0 == first)
        #expect(retry.1.isEmpty)
        #expect(kv.store.revision == 1)
        kv.apply(.put(key: Self.key, value: [2], lease: 0), client: 7, sequence: 2)
        #expect(kv.apply(.put(key: Self.key, value: [1], lease: 0), client: 7, sequence: 1).0 == .staleRetry)
        #expect(kv.store.get(Self.key)!.value == [2])
    }

    @Test func revokingALeaseDeletesItsKeysAndFencingTokensOnlyGrow() {
        var kv = Applier()
        guard case .leaseGranted(let lease, _) = kv.apply(.leaseGrant(ttlMillis: 5_000)).0 else {
            Issue.record("no lease")
            return
        }
        let lock = Array("locks/leader".utf8)
        guard case .ok(let token1) = kv.apply(.compareAndSwap(key: lock, expected: 0, value: [1], lease: lease)).0
        else {
            Issue.record("lock not taken")
            return
        }
        kv.apply(.put(key: Self.key, value: [9], lease: lease))
        let (result, events) = kv.apply(.leaseExpire(lease), client: 0, sequence: 0)
        guard case .ok = result else {
            Issue.record("expire failed: \(result)")
            return
        }
        #expect(events.map(\.key) == [Self.key, lock].sorted { $0.lexicographicallyPrecedes($1) })
        #expect(kv.store.get(lock) == nil)
        guard case .ok(let token2) = kv.apply(.compareAndSwap(key: lock, expected: 0, value: [2], lease: 0)).0 else {
            Issue.record("lock not re-taken")
            return
        }
        #expect(token2 > token1)
        #expect(kv.apply(.put(key: Self.key, value: [1], lease: lease)).0 == .refused("lease \(lease) does not exist"))
    }

    @Test func listReturnsPrefixMatchesInByteOrderUpToTheLimit() {
        var kv = Applier()
        for name in ["b/2", "a/1", "b/1", "b/3", "c"] { kv.apply(.put(key: Array(name.utf8), value: [], lease: 0)) }
        let listed = kv.store.list(prefix: Array("b/".utf8), limit: 2).map { String(decoding: $0.key, as: UTF8.self) }
        #expect(listed == ["b/1", "b/2"])
    }

    @Test func snapshotsRoundTripExactly() throws {
        var kv = Applier()
        kv.apply(.leaseGrant(ttlMillis: 1_000))
        for number in 0..<50 {
            kv.apply(
                .put(key: Array("k\(number)".utf8), value: [UInt8(number)], lease: number % 3 == 0 ? 1 : 0),
                client: UInt64(number % 5 + 1))
        }
        let restored = try KV.Store(snapshot: kv.store.snapshotData)
        #expect(restored == kv.store)
        #expect(restored.snapshotData == kv.store.snapshotData)
    }

    @Test func invalidCommandsAreRefusedWithoutChangingAnything() {
        var kv = Applier()
        #expect(kv.apply(.put(key: [], value: [1], lease: 0)).0 == .refused("a key must be 1...4096 bytes"))
        #expect(kv.apply(.leaseGrant(ttlMillis: 0)).0 == .refused("a lease TTL must be 1...86400000 ms"))
        #expect(kv.store.revision == 0)
        let garbage = Raft.Entry(term: 1, index: 99, kind: .normal, origin: .none, payload: [1, 2, 3], previous: .zero)
        #expect(kv.store.apply(garbage)?.result == .refused("the entry is not a KV command"))
    }

    @Test func sessionsAreBounded() {
        var store = KV.Store()
        for client in 1...UInt64(KV.Limits.sessionsMax + 10) {
            _ = store.apply(KV.Command(client: client, sequence: 1, operation: .delete(key: [1])), at: client)
        }
        #expect(store.sessions.count == KV.Limits.sessionsMax)
        #expect(store.sessions[1] == nil)
    }
}
