/// A client-observed history in Jepsen's shape: for each operation an `invoke` event, then its
/// completion — `ok` (it happened, with this result), `fail` (it certainly did not happen) or
/// `info` (indeterminate: it may have happened at any point after the invoke, or never).
///
/// Events are kept in the real-time order they were observed; a process has at most one
/// operation outstanding, and a process that got `info` issues nothing further (Jepsen's rule:
/// the client then continues as a new process). See Kingsbury, "Jepsen: Knossos" and
/// jepsen.history. Values are integers, a pair (CAS `[expected, new]`) or a list (set reads).
package struct History: Equatable, Sendable {
    /// Jepsen's event types (see the type's documentation).
    package enum EventType: String, Equatable, Sendable {
        case invoke, ok, fail, info
    }

    /// An operation's argument or result: nothing (JSON null), an integer, a pair or a list.
    package enum Value: Hashable, Sendable, CustomStringConvertible {
        case none
        case int(Int64)
        case pair(Int64, Int64)
        case list([Int64])

        package var description: String {
            switch self {
            case .none: return "nil"
            case .int(let value): return "\(value)"
            case .pair(let a, let b): return "[\(a),\(b)]"
            case .list(let values): return "[" + values.map(String.init).joined(separator: ",") + "]"
            }
        }
    }

    /// One history event. `f` names the operation (`read`, `write`, `cas`, `acquire`, `release`,
    /// `add`); `key` is set for keyed (independent) histories; `time` is virtual µs, if known.
    package struct Event: Equatable, Sendable {
        package var process: Int
        package var type: EventType
        package var f: String
        package var key: Int?
        package var value: Value
        package var time: Int64?

        package init(
            process: Int, type: EventType, f: String, key: Int? = nil, value: Value = .none, time: Int64? = nil
        ) {
            self.process = process
            self.type = type
            self.f = f
            self.key = key
            self.value = value
            self.time = time
        }
    }

    package private(set) var events: [Event] = []
    /// Events refused because the history reached `SimulatorLimits.historyOperationsMax`.
    package private(set) var refused = 0

    package init(_ events: [Event] = []) { self.events = events }

    package mutating func append(_ event: Event) {
        guard events.count < SimulatorLimits.historyOperationsMax * 2 else {
            refused += 1
            return
        }
        events.append(event)
    }

    /// Operations: each invoke paired with its completion (nil while still open at the end).
    package func operations() throws(HistoryError) -> [Operation] {
        var open: [Int: Int] = [:]
        var result: [Operation] = []
        for (index, event) in events.enumerated() {
            if event.type == .invoke {
                guard open[event.process] == nil else {
                    throw HistoryError(line: index + 1, reason: "process \(event.process) invoked twice")
                }
                open[event.process] = result.count
                result.append(Operation(invokeIndex: index, invoke: event))
            } else {
                guard let slot = open.removeValue(forKey: event.process) else {
                    throw HistoryError(line: index + 1, reason: "process \(event.process) completed nothing")
                }
                result[slot].completeIndex = index
                result[slot].completion = event
            }
        }
        return result
    }

    /// An invoke and its completion.
    package struct Operation: Equatable, Sendable {
        package var invokeIndex: Int
        package var invoke: Event
        package var completeIndex: Int?
        package var completion: Event?

        /// `ok`, `fail`, or `info` (also for an operation never completed).
        package var outcome: EventType { completion?.type ?? .info }
    }
}

/// A history that cannot be read or paired; says which line and why.
package struct HistoryError: Error, Equatable, CustomStringConvertible {
    package var line: Int
    package var reason: String
    package var description: String { "history line \(line): \(reason)" }
}
