@testable import BizraRaft

extension RaftScenarioRunner {
    /// A command line: its name, positional words and `key=value` words (in order; a key may
    /// repeat, as the steps of `conf-change` do). Every `key=value` must be used by the command.
    struct Arguments {
        let command: String
        var positional: [String]
        var named: [(key: String, value: String)]
        private var used: Set<String> = []

        init(_ line: String) throws(ScriptError) {
            let words = line.split(separator: " ").map(String.init)
            guard let first = words.first else { throw ScriptError(description: "empty command") }
            command = first
            positional = []
            named = []
            for word in words.dropFirst() {
                if let equals = word.firstIndex(of: "=") {
                    named.append((String(word[..<equals]), String(word[word.index(after: equals)...])))
                } else {
                    positional.append(word)
                }
            }
        }

        func checkAllUsed() throws(ScriptError) {
            let unknown = named.map(\.key).filter { !used.contains($0) }
            guard unknown.isEmpty else {
                throw ScriptError(description: "\(command) does not take \(unknown.joined(separator: ", "))")
            }
            guard positional.isEmpty else {
                throw ScriptError(description: "\(command): unexpected \(positional.joined(separator: " "))")
            }
        }

        mutating func string(_ key: String) -> String? {
            used.insert(key)
            return named.last { $0.key == key }?.value
        }

        mutating func int(_ key: String) throws(ScriptError) -> Int? {
            guard let text = string(key) else { return nil }
            guard let value = Int(text) else { throw ScriptError(description: "\(key)=\(text) is not a number") }
            return value
        }

        mutating func set(_ target: inout Int, _ key: String) throws(ScriptError) {
            if let value = try int(key) { target = value }
        }

        mutating func set(_ target: inout Bool, _ key: String) throws(ScriptError) {
            guard let text = string(key) else { return }
            guard let value = Bool(text) else { throw ScriptError(description: "\(key)=\(text) is not true/false") }
            target = value
        }

        mutating func id(_ key: String) throws(ScriptError) -> Raft.NodeID {
            guard let text = string(key), let id = Raft.NodeID(text) else {
                throw ScriptError(description: "\(command) needs \(key)=<node id>")
            }
            return id
        }

        mutating func ids(_ key: String) throws(ScriptError) -> [Raft.NodeID]? {
            guard let text = string(key) else { return nil }
            return try Self.ids(text)
        }

        /// `1,2,3`.
        static func ids(_ text: String) throws(ScriptError) -> [Raft.NodeID] {
            var ids: [Raft.NodeID] = []
            for part in text.split(separator: ",") {
                guard let id = Raft.NodeID(part) else { throw ScriptError(description: "\(text) is not a list of ids") }
                ids.append(id)
            }
            return ids
        }

        /// `1:3,2:1,3:1` (a missing weight is 1).
        mutating func weights(_ key: String) throws(ScriptError) -> [Raft.NodeID: UInt64]? {
            guard let text = string(key) else { return nil }
            var weights: [Raft.NodeID: UInt64] = [:]
            for part in text.split(separator: ",") {
                let (id, weight) = try Self.voter(String(part))
                weights[id] = weight
            }
            return weights
        }

        static func voter(_ text: String) throws(ScriptError) -> (Raft.NodeID, UInt64) {
            let pieces = text.split(separator: ":")
            guard (1...2).contains(pieces.count), let id = Raft.NodeID(pieces[0]),
                let weight = pieces.count == 2 ? UInt64(pieces[1]) : 1
            else { throw ScriptError(description: "\(text) is not <id>[:<weight>]") }
            return (id, weight)
        }

        /// The first positional word as the node the command is about.
        mutating func node() throws(ScriptError) -> Raft.NodeID {
            guard let first = positional.first, let id = Raft.NodeID(first) else {
                throw ScriptError(description: "\(command) needs a node id")
            }
            positional.removeFirst()
            return id
        }

        mutating func positionalInt(default value: Int) throws(ScriptError) -> Int {
            guard let first = positional.first else { return value }
            guard let number = Int(first) else { throw ScriptError(description: "\(first) is not a number") }
            positional.removeFirst()
            return number
        }

        /// The steps of `conf-change`: `add-voter=4:1 add-learner=5 remove=2 set-weight=1:3`, in order.
        mutating func configSteps() throws(ScriptError) -> [Raft.ConfigChangeStep] {
            var steps: [Raft.ConfigChangeStep] = []
            for (key, value) in named {
                used.insert(key)
                switch key {
                case "add-voter":
                    let (id, weight) = try Self.voter(value)
                    steps.append(.addVoter(id, weight: weight))
                case "set-weight":
                    let (id, weight) = try Self.voter(value)
                    steps.append(.setWeight(id, weight: weight))
                case "add-learner", "remove":
                    guard let id = Raft.NodeID(value) else { throw ScriptError(description: "\(key)=\(value)?") }
                    steps.append(key == "remove" ? .remove(id) : .addLearner(id))
                default:
                    throw ScriptError(description: "conf-change does not take \(key)")
                }
            }
            return steps
        }
    }

    /// Which queued messages `deliver`, `drop` and `tamper` act on: `from=`, `to=`, `type=` (the
    /// message's second word, e.g. `app`, `heartbeat-resp`), at most `count=` of them, in `order=`.
    struct MessageFilter {
        var from: Raft.NodeID?
        var to: Raft.NodeID?
        var types: [String]?
        var countMax = Int.max
        /// `deliver order=reverse`: the taken messages arrive newest first (a reordering link).
        var reversed = false

        init() {}

        init(_ arguments: inout Arguments) throws(ScriptError) {
            from = try arguments.string("from").map { text throws(ScriptError) in
                guard let id = Raft.NodeID(text) else { throw ScriptError(description: "from=\(text)?") }
                return id
            }
            to = try arguments.string("to").map { text throws(ScriptError) in
                guard let id = Raft.NodeID(text) else { throw ScriptError(description: "to=\(text)?") }
                return id
            }
            types = arguments.string("type").map { $0.split(separator: ",").map(String.init) }
            countMax = try arguments.int("count") ?? Int.max
            if let order = arguments.string("order") {
                guard order == "reverse" || order == "fifo" else {
                    throw ScriptError(description: "order=reverse|fifo")
                }
                reversed = order == "reverse"
            }
        }

        func matches(_ message: Raft.Message) -> Bool {
            if let from, message.from != from { return false }
            if let to, message.to != to { return false }
            if let types, !types.contains(RaftScenarioFormat.messageType(message.body)) { return false }
            return true
        }
    }
}
