/// The Wing–Gong–Lowe search over one key's operations (see `LinearizabilityChecker`).
///
/// Entries are numbered `2·op` (call) and `2·op + 1` (return) and threaded, in real-time order,
/// on a doubly-linked list whose head is the sentinel `2·count`; linearizing an operation lifts
/// both its entries out of the list, backtracking puts them back (Knuth's dancing links).
struct LinearizabilitySearch<Model: LinearizabilityModel> {
    /// A memo entry: which operations are linearized, and the model state they lead to.
    struct CacheKey: Hashable {
        var linearized: [UInt64]
        var state: Model.State
    }

    let model: Model
    let ops: [LinearizabilitySearchOp]
    let cacheEntriesMax: Int
    var next: [Int32]
    var prev: [Int32]
    let head: Int32

    init(model: Model, ops: [LinearizabilitySearchOp], cacheEntriesMax: Int) {
        self.model = model
        self.ops = ops
        self.cacheEntriesMax = cacheEntriesMax
        let entryCount = ops.count * 2
        head = Int32(entryCount)
        next = Array(repeating: -1, count: entryCount + 1)
        prev = Array(repeating: -1, count: entryCount + 1)
        let order = (0..<entryCount).sorted { a, b in
            let ta = a & 1 == 0 ? ops[a >> 1].call : ops[a >> 1].ret
            let tb = b & 1 == 0 ? ops[b >> 1].call : ops[b >> 1].ret
            return ta != tb ? ta < tb : a < b
        }
        var last = head
        for entry in order {
            next[Int(last)] = Int32(entry)
            prev[entry] = last
            last = Int32(entry)
        }
    }

    mutating func run(budget: inout LinearizabilityBudget) -> CheckVerdict {
        var state = model.initial
        var linearized = Array(repeating: UInt64(0), count: (ops.count + 63) / 64)
        var cache = Set<CacheKey>()
        var stack: [(op: Int, state: Model.State)] = []
        var deepest = 0
        var blockedAtDeepest = -1
        var entry = next[Int(head)]
        while entry >= 0 {
            budget.stepsLeft -= 1
            if budget.stepsLeft & 4_095 == 0, budget.stepsLeft <= 0 || budget.shouldStop?() == true {
                return .unknown("search budget exhausted after linearizing \(deepest) of \(ops.count) operations")
            }
            let index = Int(entry >> 1)
            if entry & 1 == 0 {
                if let newState = model.step(state, ops[index].op) {
                    linearized[index >> 6] |= 1 << UInt64(index & 63)
                    if cache.insert(CacheKey(linearized: linearized, state: newState)).inserted {
                        guard cache.count <= cacheEntriesMax else { return .unknown("memo cache full") }
                        stack.append((index, state))
                        if stack.count > deepest {
                            deepest = stack.count
                            blockedAtDeepest = -1
                        }
                        state = newState
                        lift(index)
                        entry = next[Int(head)]
                        continue
                    }
                    linearized[index >> 6] &= ~(1 << UInt64(index & 63))
                }
                entry = next[Int(entry)]
            } else {
                if ops[index].ret == Int.max { return .valid }
                if stack.count == deepest && blockedAtDeepest < 0 { blockedAtDeepest = index }
                guard let top = stack.popLast() else {
                    return .invalid(describeFailure(max(blockedAtDeepest, 0), deepest: deepest))
                }
                state = top.state
                linearized[top.op >> 6] &= ~(1 << UInt64(top.op & 63))
                unlift(top.op)
                entry = next[2 * top.op]
            }
        }
        return .valid
    }

    @inline(__always)
    private mutating func lift(_ index: Int) {
        remove(2 * index)
        remove(2 * index + 1)
    }

    /// Undoes `lift`: entries keep their own links while out, so they go back in reverse order.
    @inline(__always)
    private mutating func unlift(_ index: Int) {
        reinsert(2 * index + 1)
        reinsert(2 * index)
    }

    @inline(__always)
    private mutating func remove(_ entry: Int) {
        let after = next[entry]
        next[Int(prev[entry])] = after
        if after >= 0 { prev[Int(after)] = prev[entry] }
    }

    @inline(__always)
    private mutating func reinsert(_ entry: Int) {
        let after = next[entry]
        next[Int(prev[entry])] = Int32(entry)
        if after >= 0 { prev[Int(after)] = Int32(entry) }
    }

    private func describeFailure(_ index: Int, deepest: Int) -> String {
        let op = ops[index].op
        let output = op.output.map { " -> \($0)" } ?? ""
        return "no linearization; the longest linearizable prefix has \(deepest) of \(ops.count) operations and"
            + " then the operation invoked on line \(ops[index].operation) (process \(op.process) \(op.function) \(op.input)\(output))"
            + " must return but cannot be placed"
    }
}
