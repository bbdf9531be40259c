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

    package func check(_ history: History) -> Report {
        guard let operations = try? history.operations() else { return Report(lost: [], unexpected: [-1]) }
        var attempted = Set<Int64>()
        var knownAt: [Int64: Int] = [:]
        var reads: [(invoke: Int, complete: Int, elements: Set<Int64>)] = []
        for operation in operations {
            if operation.invoke.f == "add", case .int(let element) = operation.invoke.value {
                attempted.insert(element)
                if operation.outcome == .ok, let done = operation.completeIndex {
                    knownAt[element] = min(knownAt[element] ?? Int.max, done)
                }
            } else if operation.invoke.f == "read", operation.outcome == .ok, let done = operation.completeIndex {
                let elements = Set(operation.completion?.value.elements ?? [])
                reads.append((operation.invokeIndex, done, elements))
                for element in elements { knownAt[element] = min(knownAt[element] ?? Int.max, done) }
            }
        }
        var report = Report()
        report.acknowledged = knownAt.count
        for element in knownAt.keys.sorted() {
            if !attempted.contains(element) {
                report.unexpected.append(element)
                continue
            }
            let later = reads.filter { $0.invoke > knownAt[element]! }
            guard let last = later.max(by: { $0.invoke < $1.invoke }) else {
                report.unread.append(element)
                continue
            }
            if !last.elements.contains(element) {
                report.lost.append(element)
            } else if later.contains(where: { !$0.elements.contains(element) }) {
                report.stale.append(element)
            }
        }
        return report
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
