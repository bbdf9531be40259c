/// Generates client histories of a correct, sequential register under random concurrency —
/// the known-good input the checkers are tested and benchmarked on.
///
/// Each client runs operations back to back; every operation gets an invoke time, a
/// linearization point and a completion time, and the register applies it atomically at its
/// linearization point, so the history is linearizable by construction. With
/// `indeterminatePerMillion`, a completion is recorded as `info` instead (its effect stays, or
/// with `lostIndeterminatePerMillion` is never applied: both are legal for `info`).
package struct RegisterHistoryGenerator {
    package var clients = 10
    package var operations = 300
    package var keys = 1
    package var casPerMillion = 200_000
    package var readPerMillion = 450_000
    package var indeterminatePerMillion = 0
    package var lostIndeterminatePerMillion = 0
    /// When set, written values are drawn from `0..<distinctValues` instead of being unique, as in
    /// Jepsen's register tests; repeated values make the search much harder.
    package var distinctValues: Int?
    /// Range of µs between invoke and linearization point, and between that and completion.
    package var latency: ClosedRange<Int64> = 1...1_000

    package init() {}

    private enum Phase: Int { case invoke = 0, apply = 1, complete = 2 }

    private struct Planned {
        var time: Int64
        var phase: Phase
        var op: Int
    }

    package func generate(rng: inout SimRNG) -> History {
        var requests: [(process: Int, f: String, key: Int, input: History.Value, info: Bool, lost: Bool)] = []
        var plan: [Planned] = []
        var clock = Array(repeating: Int64(0), count: clients)
        var nextValue: Int64 = 1
        for op in 0..<operations {
            let client = rng.below(clients)
            let roll = rng.below(1_000_000)
            let key = rng.below(keys)
            let f = roll < readPerMillion ? "read" : roll < readPerMillion + casPerMillion ? "cas" : "write"
            let fresh = distinctValues.map { Int64(rng.below($0)) } ?? nextValue
            let expected = Int64(rng.below(distinctValues ?? Int(nextValue)))
            let input: History.Value = f == "read" ? .none : f == "write" ? .int(fresh) : .pair(expected, fresh)
            nextValue += 1
            let info = rng.chance(perMillion: indeterminatePerMillion)
            requests.append((client, f, key, input, info, info && rng.chance(perMillion: lostIndeterminatePerMillion)))
            let invoke = clock[client] + rng.uniform(0...latency.upperBound)
            let apply = invoke + rng.uniform(latency)
            let complete = apply + rng.uniform(latency)
            clock[client] = complete + 1
            plan += [Planned(time: invoke, phase: .invoke, op: op), Planned(time: apply, phase: .apply, op: op)]
            plan.append(Planned(time: complete, phase: .complete, op: op))
        }
        plan.sort { ($0.time, $0.phase.rawValue, $0.op) < ($1.time, $1.phase.rawValue, $1.op) }
        return replay(plan, requests)
    }

    private func replay(
        _ plan: [Planned],
        _ requests: [(process: Int, f: String, key: Int, input: History.Value, info: Bool, lost: Bool)]
    ) -> History {
        var store = Array(repeating: Int64(0), count: keys)
        var results = Array(repeating: (ok: true, value: History.Value.none), count: requests.count)
        var processOf = Array(repeating: 0, count: clients)
        for client in 0..<clients { processOf[client] = client }
        var assigned = Array(repeating: 0, count: requests.count)
        var history = History()
        for step in plan {
            let request = requests[step.op]
            switch step.phase {
            case .invoke:
                assigned[step.op] = processOf[request.process]
                history.append(
                    .init(
                        process: assigned[step.op], type: .invoke, f: request.f, key: request.key, value: request.input)
                )
            case .apply:
                guard !request.lost else { continue }
                switch request.input {
                case .none: results[step.op] = (true, .int(store[request.key]))
                case .int(let value): store[request.key] = value
                case .pair(let expected, let new):
                    results[step.op].ok = store[request.key] == expected
                    if results[step.op].ok { store[request.key] = new }
                case .list: break
                }
                if request.f != "read" { results[step.op].value = request.input }
            case .complete:
                let type: History.EventType = request.info ? .info : results[step.op].ok ? .ok : .fail
                let value = type == .ok ? results[step.op].value : request.input
                history.append(
                    .init(process: assigned[step.op], type: type, f: request.f, key: request.key, value: value))
                if request.info { processOf[request.process] += clients }
            }
        }
        return history
    }
}
