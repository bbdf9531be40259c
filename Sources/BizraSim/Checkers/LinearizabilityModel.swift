/// One operation as a sequential model sees it: what was asked, and what was answered (nil when
/// the operation is indeterminate and its answer unknown).
package struct ModelOperation: Equatable, Sendable {
    /// The operations the models know.
    package enum Function: UInt8, Sendable {
        case read, write, cas, acquire, release
    }

    package var function: Function
    package var process: Int
    package var input: History.Value
    package var output: History.Value?
}

/// A sequential specification for the linearizability checker: a start state and a step
/// function that says whether an operation, with the answer recorded, is legal in a state.
package protocol LinearizabilityModel: Sendable {
    associatedtype State: Hashable

    var initial: State { get }

    /// The state after `operation`, or nil if the operation cannot have returned its recorded
    /// output in `state`. An operation without output (indeterminate) MUST be accepted whenever
    /// some output would be.
    func step(_ state: State, _ operation: ModelOperation) -> State?

    /// Operations that never change state; indeterminate ones are dropped before the search.
    func isReadOnly(_ operation: ModelOperation) -> Bool
}

/// A read/write register whose value starts at `initial` (`nil`, i.e. JSON null, reads as
/// `Int64.min`). Jepsen's `register`.
package struct RegisterModel: LinearizabilityModel {
    package static let nilValue = Int64.min
    package var initial: Int64

    package init(initial: Int64 = RegisterModel.nilValue) { self.initial = initial }

    package func step(_ state: Int64, _ operation: ModelOperation) -> Int64? {
        switch operation.function {
        case .read:
            guard let output = operation.output else { return state }
            return RegisterModel.integer(output) == state ? state : nil
        case .write:
            return RegisterModel.integer(operation.input)
        case .cas, .acquire, .release:
            return nil
        }
    }

    package func isReadOnly(_ operation: ModelOperation) -> Bool { operation.function == .read }

    static func integer(_ value: History.Value) -> Int64 {
        if case .int(let number) = value { return number }
        return nilValue
    }
}

/// A register with compare-and-set: `cas [expected, new]` succeeds (ok) iff the value equals
/// `expected`; a CAS that returned `fail` had no effect and is dropped before checking.
package struct CASRegisterModel: LinearizabilityModel {
    package var initial: Int64

    package init(initial: Int64 = RegisterModel.nilValue) { self.initial = initial }

    package func step(_ state: Int64, _ operation: ModelOperation) -> Int64? {
        switch operation.function {
        case .read, .write:
            return RegisterModel(initial: initial).step(state, operation)
        case .cas:
            guard case .pair(let expected, let new) = operation.input else { return nil }
            return state == expected ? new : nil
        case .acquire, .release:
            return nil
        }
    }

    package func isReadOnly(_ operation: ModelOperation) -> Bool { operation.function == .read }
}

/// A lock (or lease) that hands out fencing tokens (Kleppmann, "How to do distributed locking",
/// 2016): `acquire` returns a token; tokens MUST strictly increase in linearization order and
/// only a free lock can be acquired; `release` with the holder's token frees it.
///
/// Deviation: lease expiry is not inferred from time. A service whose leases expire MUST make
/// that observable — the harness records the expiry as a `release` by the holder (as `info` if the
/// moment is not known), so the checker can place it.
package struct FencedLockModel: LinearizabilityModel {
    /// Who holds the lock and the last token handed out.
    package struct State: Hashable, Sendable {
        /// The process holding the lock, or -1.
        package var holder: Int
        /// The holder's token; the highest token handed out so far.
        package var token: Int64
    }

    package var initial: State { State(holder: -1, token: 0) }

    package init() {}

    package func step(_ state: State, _ operation: ModelOperation) -> State? {
        switch operation.function {
        case .acquire:
            guard state.holder < 0 else { return nil }
            guard let output = operation.output else {
                return State(holder: operation.process, token: state.token + 1)
            }
            guard case .int(let token) = output, token > state.token else { return nil }
            return State(holder: operation.process, token: token)
        case .release:
            guard state.holder >= 0, case .int(let token) = operation.input, token == state.token else { return nil }
            return State(holder: -1, token: state.token)
        case .read, .write, .cas:
            return nil
        }
    }

    package func isReadOnly(_ operation: ModelOperation) -> Bool { false }
}
