/// Jepsen's set-full checker, simplified: for a grow-only set with `add` of single elements and
/// `read`s returning the whole set, every element known to be in the set — acknowledged by its
/// `add`, or seen by a read — must be in every read invoked after that.
///
/// An element absent from reads after it was known, but present in the last read, is *stale*
/// (allowed for eventually consistent stores, reported); absent from the last read that began
/// after it was known is *lost* (invalid). Elements read but never added are *unexpected*
/// (invalid). Elements never followed by a read are *unread* (neither).
package struct SetFullChecker {
    /// Elements by outcome, each list sorted; only `lost` and `unexpected` make it invalid.
    package struct Report: Equatable, Sendable {
        package var lost: [Int64] = []
        package var unexpected: [Int64] = []
        package var stale: [Int64] = []
        package var unread: [Int64] = []
        package var acknowledged = 0

        package var verdict: CheckVerdict {
            if lost.isEmpty && unexpected.isEmpty { return .valid }
            return .invalid("lost \(lost.prefix(10)) unexpected \(unexpected.prefix(10))")
        }
    }

    package init() {}

    /// Elements are numbered densely (binary search in the sorted universe) and each read is
    /// a bitset over those numbers, so the check does no hashing: O(reads × elements / 64) memory
    /// and O(elements × reads) bit tests.
    package func check(_ history: History) -> Report {
        guard let operations = try? history.operations() else { return Report(lost: [], unexpected: [-1]) }
        let adds = operations.filter { $0.invoke.f == "add" }
        let reads = operations.filter { $0.invoke.f == "read" && $0.outcome == .ok && $0.completeIndex != nil }
            .sorted { $0.invokeIndex < $1.invokeIndex }
        // Number the attempted elements; a read element outside them is unexpected, not numbered.
        var universe = adds.flatMap { $0.invoke.value.elements }.sorted()
        universe = universe.enumerated().filter { $0.offset == 0 || universe[$0.offset - 1] != $0.element }.map(
            \.element)
        let number = { (element: Int64) in SetFullChecker.index(of: element, in: universe) }
        let words = (universe.count + 63) / 64
        var knownAt = Array(repeating: Int.max, count: universe.count)
        for add in adds {
            guard case .int(let element) = add.invoke.value else { continue }
            if add.outcome == .ok, let done = add.completeIndex {
                knownAt[number(element)] = min(knownAt[number(element)], done)
            }
        }
        var contents = Array(repeating: UInt64(0), count: reads.count * words)
        var unexpected: [Int64] = []
        for (position, read) in reads.enumerated() {
            for element in read.completion?.value.elements ?? [] {
                let index = number(element)
                guard index < universe.count && universe[index] == element else {
                    unexpected.append(element)
                    continue
                }
                contents[position * words + index >> 6] |= 1 << UInt64(index & 63)
                knownAt[index] = min(knownAt[index], read.completeIndex!)
            }
        }
        func holds(_ position: Int, _ index: Int) -> Bool {
            contents[position * words + index >> 6] & (1 << UInt64(index & 63)) != 0
        }
        var report = Report()
        report.unexpected = Array(Set(unexpected)).sorted()
        report.acknowledged = report.unexpected.count
        for index in universe.indices where knownAt[index] != Int.max {
            report.acknowledged += 1
            let element = universe[index]
            let first = reads.partitioningIndex { $0.invokeIndex > knownAt[index] }
            guard first < reads.count else {
                report.unread.append(element)
                continue
            }
            if !holds(reads.count - 1, index) {
                report.lost.append(element)
            } else if (first..<reads.count).contains(where: { !holds($0, index) }) {
                report.stale.append(element)
            }
        }
        return report
    }

    static func index(of element: Int64, in sorted: [Int64]) -> Int {
        sorted.partitioningIndex { $0 >= element }
    }
}

extension Array {
    /// The first index whose element satisfies `predicate`, which MUST be false then true along
    /// the array (a binary search).
    func partitioningIndex(where predicate: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if predicate(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}

/// Set reads hold lists; the parser reads a two-element list as a pair, so read both.
extension History.Value {
    /// The integers this value holds: one, two (a pair) or a list.
    package var elements: [Int64] {
        switch self {
        case .none: return []
        case .int(let value): return [value]
        case .pair(let a, let b): return [a, b]
        case .list(let values): return values
        }
    }
}

/// Jepsen's counter checker: each ok `read` of a counter changed by `add` deltas must lie within
/// [what must have been applied, what may have been applied] over its invoke–complete window.
///
/// Definitely applied: ok adds completed before the read was invoked. Possibly applied: adds
/// (ok or indeterminate) invoked before the read completed. Negative deltas widen the lower
/// bound, positive ones the upper.
package struct CounterChecker {
    package init() {}

    package func check(_ history: History) -> CheckVerdict {
        guard let operations = try? history.operations() else { return .unknown("malformed history") }
        let adds = operations.filter { $0.invoke.f == "add" && $0.outcome != .fail }
        for read in operations where read.invoke.f == "read" && read.outcome == .ok {
            guard case .int(let value) = read.completion?.value, let readDone = read.completeIndex else {
                return .invalid("read #\(read.invokeIndex) returned no integer")
            }
            var lower: Int64 = 0
            var upper: Int64 = 0
            for add in adds where add.invokeIndex < readDone {
                guard case .int(let delta) = add.invoke.value else { continue }
                if add.outcome == .ok, let addDone = add.completeIndex, addDone < read.invokeIndex {
                    lower += delta
                    upper += delta
                } else {
                    lower += min(0, delta)
                    upper += max(0, delta)
                }
            }
            if value < lower || value > upper {
                return .invalid("read at event \(read.invokeIndex) saw \(value), outside [\(lower), \(upper)]")
            }
        }
        return .valid
    }
}

/// Replica convergence: after healing and a quiet period, every live replica's state is equal.
package enum ConvergenceChecker {
    /// Nil when all `replicas` are equal, else which two differ and how.
    package static func check<State: Equatable>(
        _ replicas: [(node: NodeID, state: State)], describe: (State) -> String = { "\($0)" }
    ) -> String? {
        guard let first = replicas.first else { return nil }
        for replica in replicas.dropFirst() where replica.state != first.state {
            return "node \(replica.node) has \(describe(replica.state)) but node \(first.node) has "
                + describe(first.state)
        }
        return nil
    }
}
