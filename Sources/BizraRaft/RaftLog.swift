import BizraCrypto

extension Raft {
    /// The node's view of the log: a snapshot boundary plus the entries after it, all in memory.
    ///
    /// The durable copy lives with the caller (the WAL); this is what the core reasons about.
    /// `persisted` is how much of it the caller reported durable, `committed` what a quorum holds,
    /// `applied` what was handed out for applying. Invariant: applied ≤ min(committed, persisted)
    /// ≤ last, and snapshotIndex ≤ applied.
    struct Log {
        private(set) var snapshotIndex: Index
        private(set) var snapshotTerm: Term
        private(set) var snapshotHash: Digest256
        /// entries[i].index == snapshotIndex + 1 + i.
        private(set) var entries: [Entry]
        var committed: Index
        var applied: Index
        var persisted: Index

        init(snapshot: SnapshotMetadata, entries: [Entry], committed: Index) {
            snapshotIndex = snapshot.index
            snapshotTerm = snapshot.term
            snapshotHash = snapshot.chainHead
            self.entries = entries
            let last = snapshot.index + UInt64(entries.count)
            self.committed = min(max(committed, snapshot.index), last)
            applied = snapshot.index
            persisted = last
        }

        var firstIndex: Index { snapshotIndex + 1 }
        var lastIndex: Index { snapshotIndex + UInt64(entries.count) }
        var lastTerm: Term { entries.last?.term ?? snapshotTerm }
        var lastHash: Digest256 { entries.last?.hash ?? snapshotHash }

        /// The term of the entry at `index`; nil when compacted away or beyond the end.
        func term(at index: Index) -> Term? {
            if index == snapshotIndex { return snapshotTerm }
            guard index > snapshotIndex, index <= lastIndex else { return nil }
            return entries[Int(index - snapshotIndex - 1)].term
        }

        func hash(at index: Index) -> Digest256? {
            if index == snapshotIndex { return snapshotHash }
            guard index > snapshotIndex, index <= lastIndex else { return nil }
            return entries[Int(index - snapshotIndex - 1)].hash
        }

        func entry(at index: Index) -> Entry? {
            guard index > snapshotIndex, index <= lastIndex else { return nil }
            return entries[Int(index - snapshotIndex - 1)]
        }

        /// Whether a candidate's log (lastIndex, lastTerm) is at least as up to date as ours (§5.4.1).
        func isUpToDate(lastIndex: Index, lastTerm: Term) -> Bool {
            lastTerm > self.lastTerm || (lastTerm == self.lastTerm && lastIndex >= self.lastIndex)
        }

        /// Entries from `index` on, at most `bytesMax` of them by accounted size (at least one).
        func entries(from index: Index, bytesMax: Int) -> [Entry] {
            guard index > snapshotIndex, index <= lastIndex else { return [] }
            var out: [Entry] = []
            var bytes = 0
            var position = Int(index - snapshotIndex - 1)
            while position < entries.count {
                let entry = entries[position]
                if !out.isEmpty && bytes + entry.accountedBytes > bytesMax { break }
                bytes += entry.accountedBytes
                out.append(entry)
                position += 1
            }
            return out
        }

        /// Entries in `from...through` (both within the log).
        func slice(from: Index, through: Index) -> ArraySlice<Entry> {
            guard from <= through, from > snapshotIndex, through <= lastIndex else { return [] }
            return entries[Int(from - snapshotIndex - 1)...Int(through - snapshotIndex - 1)]
        }

        /// Appends entries the leader made (they follow `lastIndex`).
        mutating func appendAsLeader(_ entry: Entry) {
            precondition(entry.index == lastIndex + 1, "leader appended index \(entry.index) after \(lastIndex)")
            entries.append(entry)
        }

        /// Merges entries received from a leader after (prevIndex, prevTerm): skips those already
        /// present, truncates at the first conflict and appends the rest. Returns the entries that
        /// are new (to persist) and the entries removed by truncation, or nil (changing nothing)
        /// when the entries conflict with a committed one, which no correct leader sends.
        mutating func merge(_ incoming: [Entry]) -> (new: [Entry], removed: [Entry])? {
            var firstNew = incoming.count
            for (position, entry) in incoming.enumerated() {
                if entry.index <= snapshotIndex { continue }
                guard let term = term(at: entry.index), term == entry.term, hash(at: entry.index) == entry.hash else {
                    firstNew = position
                    break
                }
            }
            guard firstNew < incoming.count else { return ([], []) }
            let start = incoming[firstNew].index
            guard start > committed else { return nil }
            var removed: [Entry] = []
            if start <= lastIndex {
                let cut = Int(start - snapshotIndex - 1)
                removed = Array(entries[cut...])
                entries.removeSubrange(cut...)
                persisted = min(persisted, start - 1)
            }
            let new = Array(incoming[firstNew...])
            entries.append(contentsOf: new)
            return (new, removed)
        }

        /// Drops entries up to `index` (which must be applied): they live in the snapshot now.
        mutating func compact(through index: Index) {
            guard index > snapshotIndex else { return }
            precondition(index <= applied, "compaction through \(index) beyond applied \(applied)")
            let term = self.term(at: index)!
            let hash = self.hash(at: index)!
            entries.removeFirst(Int(index - snapshotIndex))
            snapshotIndex = index
            snapshotTerm = term
            snapshotHash = hash
        }

        /// Replaces the whole log with a snapshot. Deviation from Raft §7, which keeps a matching
        /// suffix: dropping it keeps the storage contract simple (a snapshot write discards every
        /// stored entry) and costs only a resend of entries the leader still has.
        mutating func restore(_ snapshot: SnapshotMetadata) {
            entries.removeAll()
            snapshotIndex = snapshot.index
            snapshotTerm = snapshot.term
            snapshotHash = snapshot.chainHead
            committed = max(committed, snapshot.index)
            applied = snapshot.index
            // Not durable until the caller reports the snapshot write.
            persisted = min(persisted, snapshot.index == 0 ? 0 : snapshot.index - 1)
        }

        /// Term of the last entry at or before `index` whose term is ≤ `term`, and its index:
        /// the leader's fast back-off after a rejection (etcd-io/raft's findConflictByTerm).
        func lastIndex(atOrBefore index: Index, withTermAtMost term: Term) -> Index {
            var probe = min(index, lastIndex)
            while probe > snapshotIndex, let entryTerm = self.term(at: probe), entryTerm > term { probe -= 1 }
            return probe
        }
    }
}
