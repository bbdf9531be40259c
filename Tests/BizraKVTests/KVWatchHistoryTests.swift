import Testing

@testable import BizraKV

@Suite struct KVWatchHistoryTests {
    static func event(_ key: String, revision: UInt64, type: String = "put") -> KV.WatchEvent {
        KV.WatchEvent(
            KV.Event(kind: type == "put" ? .put : .delete, key: Array(key.utf8), value: [], revision: revision),
            index: revision + 100)
    }

    /// The events a store applies through real commands land in the history in revision order,
    /// and a page from any held revision gives exactly the later ones under the prefix.
    @Test func aPageGivesTheLaterChangesUnderThePrefix() throws {
        var store = KV.Store()
        var history = KV.WatchHistory(floor: store.revision + 1)
        let operations: [KV.Operation] = [
            .put(key: Array("a/1".utf8), value: [1], lease: 0), .put(key: Array("b/1".utf8), value: [2], lease: 0),
            .put(key: Array("a/2".utf8), value: [3], lease: 0), .delete(key: Array("a/1".utf8)),
        ]
        for (i, operation) in operations.enumerated() {
            let (_, events) = store.apply(KV.Command(client: 1, sequence: UInt64(i + 1), operation: operation), at: 0)
            history.append(events.map { KV.WatchEvent($0, index: UInt64(i + 1)) })
        }
        let all = try #require(history.page(from: 1, prefix: "a/", limit: 100, current: store.revision))
        #expect(all.events.map(\.key) == ["a/1", "a/2", "a/1"])
        #expect(all.events.map(\.type) == ["put", "put", "delete"])
        #expect(all.through == store.revision && !all.more)
        let later = try #require(history.page(from: 3, prefix: "", limit: 100, current: store.revision))
        #expect(later.events.map(\.revision) == [3, 4])
    }

    /// Past the bound the oldest revision goes as a whole and the floor rises past it; a page
    /// from below the floor is refused (nil), one from the floor on is whole.
    @Test func theBoundDropsWholeRevisionsAndRaisesTheFloor() throws {
        var history = KV.WatchHistory(floor: 1, eventsMax: 4)
        history.append([Self.event("x", revision: 1)])
        history.append([Self.event("l/1", revision: 2, type: "delete"), Self.event("l/2", revision: 2, type: "delete")])
        history.append([Self.event("y", revision: 3)])
        #expect(history.floor == 1 && history.count == 4)
        history.append([Self.event("z", revision: 4)])
        #expect(history.floor == 2 && history.count == 4)
        history.append([Self.event("w", revision: 5)])
        // Revision 2 had two events: both go, never one of them.
        #expect(history.floor == 3 && history.count == 3)
        #expect(history.page(from: 2, prefix: "", limit: 10, current: 5) == nil)
        let page = try #require(history.page(from: 3, prefix: "", limit: 10, current: 5))
        #expect(page.events.map(\.revision) == [3, 4, 5])
        for revision: UInt64 in 6...1_000 { history.append([Self.event("k", revision: revision)]) }
        #expect(history.count == 4 && history.floor == 997)
        #expect(try #require(history.page(from: 997, prefix: "", limit: 10, current: 1_000)).events.count == 4)
    }

    /// A page is cut at a revision boundary, says so, and the next page continues exactly where
    /// it stopped.
    @Test func pagesNeverSplitARevisionAndContinueExactly() throws {
        var history = KV.WatchHistory(floor: 1)
        history.append([Self.event("a", revision: 1)])
        history.append([Self.event("b", revision: 2), Self.event("c", revision: 2), Self.event("d", revision: 2)])
        history.append([Self.event("e", revision: 3)])
        let first = try #require(history.page(from: 1, prefix: "", limit: 2, current: 3))
        #expect(first.events.map(\.key) == ["a"] && first.more && first.through == 1)
        let second = try #require(history.page(from: first.through + 1, prefix: "", limit: 2, current: 3))
        // One revision larger than the limit still comes whole (a page holds at least one revision).
        #expect(second.events.map(\.key) == ["b", "c", "d"] && second.more && second.through == 2)
        let third = try #require(history.page(from: second.through + 1, prefix: "", limit: 2, current: 3))
        #expect(third.events.map(\.key) == ["e"] && !third.more && third.through == 3)
    }

    /// A snapshot resets the history: nothing before it can be replayed.
    @Test func aResetStartsAfterTheSnapshot() {
        var history = KV.WatchHistory(floor: 1)
        for revision: UInt64 in 1...5 { history.append([Self.event("k", revision: revision)]) }
        history.reset(afterRevision: 40)
        #expect(history.count == 0 && history.floor == 41)
        #expect(history.page(from: 5, prefix: "", limit: 10, current: 40) == nil)
        #expect(history.page(from: 41, prefix: "", limit: 10, current: 40)?.events == [])
    }

    /// Replay then live: duplicates of the replay are skipped, every event of a multi-key
    /// revision (a lease revoke) is shown, and a gap before the first live event is filled once.
    @Test func theStitcherShowsEachChangeOnceAcrossTheReplay() {
        var stitcher = KV.WatchStitcher(replayedThrough: 5)
        #expect(stitcher.live(Self.event("a", revision: 4)) == .skip)
        #expect(stitcher.live(Self.event("a", revision: 5)) == .skip)
        // The first new live event always asks once more: the subscription may have gone live
        // in the middle of its revision.
        let first = Self.event("l/1", revision: 6, type: "delete")
        #expect(stitcher.live(first) == .fillGap(from: 6))
        stitcher.filled(through: 5)
        #expect(stitcher.live(first) == .show)
        #expect(stitcher.live(Self.event("l/2", revision: 6, type: "delete")) == .show, "same revision, other key")
        #expect(stitcher.live(Self.event("b", revision: 9)) == .show, "later gaps are other keys' revisions")

        var gapped = KV.WatchStitcher(replayedThrough: 5)
        let late = Self.event("c", revision: 8)
        #expect(gapped.live(late) == .fillGap(from: 6))
        gapped.filled(through: 8)
        #expect(gapped.live(late) == .skip, "the gap replay already showed it")
        #expect(gapped.live(Self.event("d", revision: 9)) == .show)
        #expect(gapped.live(Self.event("e", revision: 12)) == .show, "only the first live event is gap-checked")
    }

    /// Large values shorten the history (the byte bound) and split replies into pages that stay
    /// far below the bus's frame limit.
    @Test func bytesBoundTheHistoryAndItsPages() throws {
        func big(_ revision: UInt64) -> KV.WatchEvent {
            var event = Self.event("k\(revision)", revision: revision)
            event.value = String(repeating: "v", count: 100_000)
            return event
        }
        var history = KV.WatchHistory(floor: 1, eventsMax: 1_000, bytesMax: 1 << 20)
        for revision: UInt64 in 1...20 { history.append([big(revision)]) }
        #expect(history.count == 10 && history.floor == 11, "1 MiB holds 10 events of 100 kB")
        let page = try #require(history.page(from: 11, prefix: "", limit: 1_000, current: 20))
        #expect(page.events.count == 2 && page.more && page.through == 12, "256 KiB pages: \(page.events.count)")
    }
}
