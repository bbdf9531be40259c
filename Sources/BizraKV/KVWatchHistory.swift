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
        /// Events kept; older ones are forgotten a revision at a time.
        package let eventsMax: Int
        private var events: [WatchEvent] = []
        /// Index in `events` of the oldest kept event (a ring without wrap-around: compacted in
        /// place once half of the array is dead).
        private var start = 0
        /// Every event with revision ≥ floor is held.
        package private(set) var floor: UInt64

        /// The default bound: about 3 MB of events of 256-byte values.
        package static let eventsMaxDefault = 10_000
        /// The most events one replay page carries (a reply stays far below the bus's frame limit).
        package static let pageEventsMax = 1_000

        package init(floor: UInt64, eventsMax: Int = eventsMaxDefault) {
            precondition(eventsMax >= 1, "a watch history holds at least one event")
            self.floor = floor
            self.eventsMax = eventsMax
        }

        package var count: Int { events.count - start }

        /// Forgets everything: the member's state now starts at `revision` (a snapshot).
        package mutating func reset(afterRevision revision: UInt64) {
            events = []
            start = 0
            floor = revision + 1
        }

        /// Records the events of one applied entry (revisions never decrease).
        package mutating func append(_ new: [WatchEvent]) {
            events.append(contentsOf: new)
            while count > eventsMax {
                // Drop the whole oldest revision, so that a revision is held entirely or not at all.
                let oldest = events[start].revision
                while start < events.count, events[start].revision == oldest { start += 1 }
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

        /// The events from revision `from` on, up to `limit` of them (a page never splits a
        /// revision), with `current` the member's revision now; nil when `from` is below `floor`.
        package func page(from: UInt64, prefix: String, limit: Int, current: UInt64) -> Page? {
            guard from >= floor else { return nil }
            var selected: [WatchEvent] = []
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
                if !selected.isEmpty, selected.count + group.count > limit {
                    through = revision - 1
                    more = true
                    break
                }
                selected += group
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
