@testable import BizraSim

/// A sequential object (counter, set, lock) driven by random concurrent clients: each operation
/// takes effect atomically at a random point between its invoke and its completion, so the
/// recorded history is correct by construction. Some completions are recorded as `info` (and
/// some of those never took effect), as a crashed client would leave them.
struct SequentialStoreGenerator {
    enum Object { case counter, set, lock }

    var object: Object
    var clients = 6
    var operations = 200
    var indeterminatePerMillion = 50_000

    private struct Step {
        var time: Int64
        var phase: Int
        var op: Int
    }

    private struct Planned {
        var client: Int
        var f: String
        var input: History.Value
        var info: Bool
        var lost: Bool
    }

    func generate(seed: UInt64) -> History {
        var rng = SimRNG(seed: seed)
        var planned: [Planned] = []
        var steps: [Step] = []
        var clock = Array(repeating: Int64(0), count: clients)
        for op in 0..<operations {
            let client = rng.below(clients)
            let (f, input) = draw(&rng, op: op)
            let info = rng.chance(perMillion: indeterminatePerMillion)
            planned.append(Planned(client: client, f: f, input: input, info: info, lost: info && rng.below(2) == 0))
            let invoke = clock[client] + rng.uniform(0...500)
            let apply = invoke + rng.uniform(1...500)
            let complete = apply + rng.uniform(1...500)
            clock[client] = complete + 1
            steps += [Step(time: invoke, phase: 0, op: op), Step(time: apply, phase: 1, op: op)]
            steps.append(Step(time: complete, phase: 2, op: op))
        }
        steps.sort { ($0.time, $0.phase, $0.op) < ($1.time, $1.phase, $1.op) }
        return replay(steps, planned)
    }

    private func draw(_ rng: inout SimRNG, op: Int) -> (String, History.Value) {
        switch object {
        case .counter: return rng.below(3) == 0 ? ("read", .none) : ("add", .int(rng.uniform(-2...5)))
        case .set: return rng.below(3) == 0 ? ("read", .none) : ("add", .int(Int64(op)))
        case .lock: return rng.below(2) == 0 ? ("acquire", .none) : ("release", .none)
        }
    }

    private func replay(_ steps: [Step], _ planned: [Planned]) -> History {
        var counter: Int64 = 0
        var set: [Int64] = []
        var holder = -1
        var token: Int64 = 0
        var results = Array(repeating: (ok: true, value: History.Value.none), count: planned.count)
        var process = Array(0..<clients)
        var assigned = Array(repeating: 0, count: planned.count)
        var history = History()
        for step in steps {
            var request = planned[step.op]
            switch step.phase {
            case 0:
                assigned[step.op] = process[request.client]
                if request.f == "release" { request.input = .int(token) }
                history.append(.init(process: assigned[step.op], type: .invoke, f: request.f, value: request.input))
            case 1:
                guard !request.lost else { continue }
                let me = assigned[step.op]
                switch (object, request.f) {
                case (.counter, "add"): counter += request.input.elements.first ?? 0
                case (.counter, _): results[step.op].value = .int(counter)
                case (.set, "add"): set.append(request.input.elements[0])
                case (.set, _): results[step.op].value = .list(set.sorted())
                case (.lock, "acquire"):
                    results[step.op].ok = holder < 0
                    if holder < 0 {
                        holder = me
                        token += 1
                        results[step.op].value = .int(token)
                    }
                default:
                    results[step.op].ok = holder == me
                    if holder == me { holder = -1 }
                }
            default:
                let type: History.EventType = request.info ? .info : results[step.op].ok ? .ok : .fail
                let value = request.f == "read" || request.f == "acquire" ? results[step.op].value : request.input
                let invokeValue = history.events.last(where: { $0.process == assigned[step.op] })?.value ?? .none
                history.append(
                    .init(
                        process: assigned[step.op], type: type, f: request.f,
                        value: type == .ok ? (request.f == "release" ? invokeValue : value) : invokeValue))
                if request.info { process[request.client] += clients }
            }
        }
        return history
    }
}
