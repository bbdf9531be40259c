extension KV {
    /// The recent watch events of one member, for watches that start from a past revision (as
    /// etcd's `watch --rev`): the last `eventsMax` events in revision order, and `floor`, the
    /// lowest revision from which this member still holds every event.
    ///
    /// It lives in memory only. A member that starts from a snapshot, or installs one, holds
    /// events from the snapshot's revision + 1 on (the entries after the snapshot apply again
    /// and refill it); anything older is compacted, as in etcd, and a watch from there is
    /// refused with the floor to use instead.
    package struct WatchHistory: Sendable {
        /// Events kept, and their bytes (key and value, plus a fixed overhead each); older ones
        /// are forgotten a revision at a time once either bound is passed.
        package let eventsMax: Int
        package let bytesMax: Int
        private var bytes = 0
        private var events: [WatchEvent] = []
        /// Index in `events` of the oldest kept event (a ring without wrap-around: compacted in
        /// place once half of the array is dead).
        private var start = 0
        /// Every event with revision ≥ floor is held.
        package private(set) var floor: UInt64

        /// The default bounds: 10,000 events, 16 MiB (large values shorten the history).
        package static let eventsMaxDefault = 10_000
        package static let bytesMaxDefault = 16 << 20
        /// The most events and bytes one replay page carries: a reply stays well below the bus's
        /// 1 MiB frame even when JSON escaping doubles the bytes of a value. A single revision
        /// larger than that still comes whole, on a page of its own.
        package static let pageEventsMax = 1_000
        package static let pageBytesMax = 256 << 10
        /// What one event counts towards the byte bounds besides its key and value.
        static let eventOverheadBytes = 64

        package init(floor: UInt64, eventsMax: Int = eventsMaxDefault, bytesMax: Int = bytesMaxDefault) {
            precondition(eventsMax >= 1 && bytesMax >= 1, "a watch history holds at least one event")
            self.floor = floor
            self.eventsMax = eventsMax
            self.bytesMax = bytesMax
        }

        /// What an event costs in a JSON reply: control characters, quotes and backslashes
        /// escape to up to 6 bytes each.
        static func size(_ event: WatchEvent) -> Int {
            escapedBytes(event.key) + escapedBytes(event.value) + eventOverheadBytes
        }

        static func escapedBytes(_ text: String) -> Int {
            text.utf8.reduce(0) { $0 + ($1 < 0x20 || $1 == 0x22 || $1 == 0x5C ? 6 : 1) }
        }

        package var count: Int { events.count - start }

        /// Forgets everything: the member's state now starts at `revision` (a snapshot).
        package mutating func reset(afterRevision revision: UInt64) {
            events = []
            start = 0
            bytes = 0
            floor = revision + 1
        }

        /// Records the events of one applied entry (revisions never decrease).
        package mutating func append(_ new: [WatchEvent]) {
            events.append(contentsOf: new)
            for event in new { bytes += Self.size(event) }
            while count > 0, count > eventsMax || bytes > bytesMax {
                // Drop the whole oldest revision, so that a revision is held entirely or not at all.
                let oldest = events[start].revision
                while start < events.count, events[start].revision == oldest {
                    bytes -= Self.size(events[start])
                    start += 1
                }
                floor = oldest + 1
            }
            if start > 0, start * 2 >= events.count {
                events.removeFirst(start)
                start = 0
            }
        }

        /// A page of the events with revision ≥ `from` whose key starts with `prefix`.
        package struct Page: Equatable, Sendable {
            package var events: [WatchEvent]
            /// Every event up to and including this revision is in this page or an earlier one.
            package var through: UInt64
            /// True when the page was cut: ask again from `through + 1`.
            package var more: Bool
        }

        /// The events from revision `from` on, up to `limit` of them and `pageBytesMax` bytes (a
        /// page never splits a revision), with `current` the member's revision now; nil when
        /// `from` is below `floor`.
        package func page(from: UInt64, prefix: String, limit: Int, current: UInt64) -> Page? {
            guard from >= floor else { return nil }
            var selected: [WatchEvent] = []
            var selectedBytes = 0
            var through = current
            var more = false
            var index = firstIndex(atOrAbove: from)
            while index < events.count {
                let revision = events[index].revision
                var group: [WatchEvent] = []
                while index < events.count, events[index].revision == revision {
                    if events[index].key.hasPrefix(prefix) { group.append(events[index]) }
                    index += 1
                }
                let groupBytes = group.reduce(0) { $0 + Self.size($1) }
                if !selected.isEmpty,
                    selected.count + group.count > limit || selectedBytes + groupBytes > Self.pageBytesMax
                {
                    through = revision - 1
                    more = true
                    break
                }
                selected += group
                selectedBytes += groupBytes
            }
            return Page(events: selected, through: max(through, from > 0 ? from - 1 : 0), more: more)
        }

        /// The position of the first held event with revision ≥ `revision` (binary search).
        private func firstIndex(atOrAbove revision: UInt64) -> Int {
            var low = start
            var high = events.count
            while low < high {
                let middle = (low + high) / 2
                if events[middle].revision < revision { low = middle + 1 } else { high = middle }
            }
            return low
        }
    }
}

extension KV {
    /// How `bizra kv watch --from-revision` joins a replay (pages of `WatchHistory`) to the live
    /// events of its subscription, so that every change is shown once and in revision order:
    /// live events at or below the replayed revision are duplicates; the first new live event
    /// may follow a gap (changes applied between the replay and the subscription going live,
    /// possibly part of its own revision), which is filled by one more replay from just after
    /// the first; after that the bus delivers in order. Revisions are not advanced per live event: several events share one revision
    /// when a lease revoke deletes its keys.
    package struct WatchStitcher: Sendable {
        /// Every change up to this revision came from a replay.
        package private(set) var replayedThrough: UInt64
        private var firstLiveSeen = false

        package init(replayedThrough: UInt64) { self.replayedThrough = replayedThrough }

        package enum Step: Equatable, Sendable {
            case show
            case skip
            /// Replay from this revision, show what it returns, then call `filled(through:)` and
            /// ask again about the same event.
            case fillGap(from: UInt64)
        }

        package mutating func live(_ event: WatchEvent) -> Step {
            if event.revision <= replayedThrough { return .skip }
            if !firstLiveSeen {
                // Whatever its revision: the subscription may have gone live in the middle of a
                // revision (a lease revoke publishes one event per key), so ask once more.
                firstLiveSeen = true
                return .fillGap(from: replayedThrough + 1)
            }
            return .show
        }

        /// A gap replay covered everything through `through`.
        package mutating func filled(through: UInt64) { replayedThrough = max(replayedThrough, through) }
    }
}
