import OrderedCollections

/// The verdict of a history check. `unknown` means the search ran out of budget: no verdict.
package enum CheckVerdict: Equatable, Sendable, CustomStringConvertible {
    case valid
    case invalid(String)
    case unknown(String)

    package var isValid: Bool { self == .valid }
    package var isInvalid: Bool {
        if case .invalid = self { return true }
        return false
    }

    package var description: String {
        switch self {
        case .valid: return "valid"
        case .invalid(let why): return "INVALID: \(why)"
        case .unknown(let why): return "unknown: \(why)"
        }
    }
}

/// Checks that a history is linearizable (Herlihy & Wing, 1990) with respect to a `Model`.
///
/// The search is Wing & Gong's (1993) with Lowe's memoisation ("Testing for linearizability",
/// 2017): walk the history's call/return entries in real-time order, tentatively linearize a
/// call whose step the model accepts, lift it out of a doubly-linked entry list, and backtrack at
/// a return that has not been linearized; a cache of (linearized set, model state) pairs already
/// explored prunes the exponential search, as in Porcupine and Knossos.
///
/// Histories are split per key first: linearizability is local (Herlihy & Wing's locality; the
/// P-compositionality of Horn & Kroening, 2015), so keys are checked independently.
///
/// Indeterminate (`info`) operations get a return at the end of time and need not be
/// linearized: the search succeeds once every `ok` operation is placed. `fail` operations and
/// indeterminate read-only operations are dropped. A budget of search steps (and an optional
/// `shouldStop` a caller may wire to a wall clock) turns a search too hard to finish into
/// `unknown` instead of a hang; the module itself never reads a clock.
package struct LinearizabilityChecker<Model: LinearizabilityModel> {
    package var model: Model
    /// Search steps over all keys before giving up with `unknown`.
    package var searchStepsMax = 200_000_000
    /// Memo entries per key before giving up with `unknown` (bounds memory).
    package var cacheEntriesMax = 4_000_000
    /// Polled every 4,096 steps; return true to stop with `unknown` (e.g. a wall-clock deadline).
    package var shouldStop: (() -> Bool)?

    package init(model: Model) { self.model = model }

    package func check(_ history: History) -> CheckVerdict {
        let operations: [History.Operation]
        do { operations = try history.operations() } catch { return .unknown("malformed history: \(error)") }
        var byKey: OrderedDictionary<Int, [LinearizabilitySearchOp]> = [:]
        for (index, operation) in operations.enumerated() {
            guard let converted = convert(operation, index: index) else {
                return .unknown("operation \(operation.invoke.f) is not part of this model")
            }
            guard let searchOp = converted.searchOp else { continue }
            byKey[operation.invoke.key ?? Int.min, default: []].append(searchOp)
        }
        byKey.sort { $0.key < $1.key }
        var budget = LinearizabilityBudget(stepsLeft: searchStepsMax, shouldStop: shouldStop)
        var unknownReason: String?
        for (key, ops) in byKey {
            var search = LinearizabilitySearch(model: model, ops: ops, cacheEntriesMax: cacheEntriesMax)
            switch search.run(budget: &budget) {
            case .valid: continue
            case .invalid(let why):
                let keyText = key == Int.min ? "" : "key \(key): "
                return .invalid(keyText + why)
            case .unknown(let why): unknownReason = unknownReason ?? "key \(key): \(why)"
            }
        }
        return unknownReason.map { .unknown($0) } ?? .valid
    }

    /// The search form of an operation; `searchOp` is nil when it can be dropped.
    private func convert(_ operation: History.Operation, index: Int) -> (searchOp: LinearizabilitySearchOp?, Void)? {
        guard let function = ModelOperation.Function(rawValue: operation.invoke.f) else { return nil }
        let outcome = operation.outcome
        let output: History.Value? = outcome == .ok ? operation.completion?.value : nil
        let modelOp = ModelOperation(
            function: function, process: operation.invoke.process, input: operation.invoke.value, output: output)
        if outcome == .fail || (outcome == .info && model.isReadOnly(modelOp)) { return (nil, ()) }
        let returnIndex = outcome == .ok ? operation.completeIndex! : Int.max
        return (
            LinearizabilitySearchOp(
                op: modelOp, call: operation.invokeIndex, ret: returnIndex, operation: operation.invokeIndex + 1), ()
        )
    }
}

/// Function names as they appear in histories (`f`).
extension ModelOperation.Function {
    init?(rawValue name: String) {
        switch name {
        case "read": self = .read
        case "write": self = .write
        case "cas": self = .cas
        case "acquire": self = .acquire
        case "release": self = .release
        default: return nil
        }
    }
}

/// An operation placed on the search's time line; `ret` is `Int.max` for an indeterminate one.
struct LinearizabilitySearchOp {
    var op: ModelOperation
    var call: Int
    var ret: Int
    /// The history line (1-based event index) of the operation's invoke, for reports.
    var operation: Int
}

/// Shared search budget across keys.
struct LinearizabilityBudget {
    var stepsLeft: Int
    var shouldStop: (() -> Bool)?
}
