/// Client requests and replication for `ReplicatedRegisterNode`.
extension ReplicatedRegisterNode {
    package mutating func clientRequest(_ request: Request, id requestID: RequestID, context: inout Context) {
        if case .read(let key) = request, isLeader || config.bug == .readFromBackup {
            // With ackBeforeDurable the leader treats decided as done, so it reads what it decided.
            let value = isLeader && config.bug == .ackBeforeDurable ? tentative[key] : committed[key]
            context.reply(.value(value), to: requestID)
            return
        }
        guard isLeader else { return context.reply(.notLeader, to: requestID) }
        guard waiting.count - waitingHead < config.pendingRepliesMax, log.count < config.logEntriesMax else {
            return context.reply(.busy, to: requestID)
        }
        let entry: Entry
        let response: Response
        switch request {
        case .read: return
        case .write(let key, let value):
            entry = Entry(key: Int32(key), value: value)
            response = .written
        case .cas(let key, let expected, let new):
            let matches = tentative[key] == expected
            entry = matches ? Entry(key: Int32(key), value: new) : .noOp
            response = matches ? .swapped : .mismatch
        }
        if entry.key >= 0 { tentative[Int(entry.key)] = entry.value }
        log.append(entry)
        context.persist(entry, token: UInt64(log.count))
        if config.bug == .ackBeforeDurable {
            context.reply(response, to: requestID)
        } else {
            waiting.append((log.count, requestID, response))
        }
        if config.bug == .sendBeforePersist { broadcastNewest(log.count, context: &context) }
    }

    /// Backup: accept entries that extend the log in order; ignore gaps and what is already held.
    mutating func appendFromLeader(first: Int, entries: [Entry], commit: Int, context: inout Context) {
        guard first <= log.count + 1 else {
            context.send(.ack(durable: durable), to: ReplicatedRegister.leader)
            return
        }
        let skip = log.count + 1 - first
        if skip >= entries.count {
            context.send(.ack(durable: durable), to: ReplicatedRegister.leader)
        } else {
            for entry in entries.dropFirst(skip) {
                log.append(entry)
                context.persist(entry, token: UInt64(log.count))
            }
        }
        applyCommitted(upTo: min(commit, durable))
    }

    /// Sends entry `index` to every backup that has acknowledged everything before it.
    mutating func broadcastNewest(_ index: Int, context: inout Context) {
        let entries = [log[index - 1]]  // one buffer shared by every copy of the message
        for backup in 0..<clusterSize where backup != id && matchIndex[backup] == index - 1 {
            context.send(.append(first: index, entries: entries, commit: commitIndex), to: backup)
        }
    }

    /// Sends `backup` the entries after its acknowledged length (a heartbeat when it has all).
    mutating func replicate(to backup: NodeID, context: inout Context) {
        let shippable = config.bug == .sendBeforePersist ? log.count : durable
        let first = matchIndex[backup] + 1
        let last = min(shippable, first - 1 + config.appendBatchMax)
        // A copy, not a slice: a slice in flight would share the log's buffer and make every append copy it.
        let entries = first <= last ? Array(log[(first - 1)..<last]) : []
        context.send(.append(first: first, entries: entries, commit: commitIndex), to: backup)
    }

    /// Leader: raises `matchIndex[node]` (never lowers it) and keeps `aheadOfCommit` in step.
    mutating func setMatch(_ node: NodeID, _ length: Int) {
        let old = matchIndex[node]
        guard length > old else { return }
        matchIndex[node] = length
        if old <= commitIndex && length > commitIndex { aheadOfCommit += 1 }
    }

    /// Leader: commit what a majority holds durably and answer the requests it completes.
    /// Equivalent to committing up to `quorumIndex(matchIndex)`, one entry at a time.
    mutating func advanceCommit(context: inout Context) {
        guard aheadOfCommit > clusterSize / 2 else { return }
        while aheadOfCommit > clusterSize / 2 && commitIndex < log.count {
            applyCommitted(upTo: commitIndex + 1)
            aheadOfCommit = 0
            for length in matchIndex where length > commitIndex { aheadOfCommit += 1 }
        }
        // Cross-check against the brute-force rule in debug builds (small clusters: it sorts).
        assert(
            clusterSize > 64 || commitIndex >= min(Self.quorumIndex(matchIndex), log.count),
            "commit lags the quorum: \(matchIndex)")
        while waitingHead < waiting.count && waiting[waitingHead].index <= commitIndex {
            context.reply(waiting[waitingHead].response, to: waiting[waitingHead].request)
            waitingHead += 1
        }
        if waitingHead == waiting.count {
            waiting.removeAll(keepingCapacity: true)
            waitingHead = 0
        }
    }

    mutating func applyCommitted(upTo index: Int) {
        while commitIndex < index && commitIndex < log.count {
            let entry = log[commitIndex]
            if entry.key >= 0 { committed[Int(entry.key)] = entry.value }
            commitIndex += 1
        }
    }

    /// The largest log length durable on a majority: the ⌈(n+1)/2⌉-th largest acknowledged length.
    static func quorumIndex(_ lengths: [Int]) -> Int {
        let sorted = lengths.sorted(by: >)
        return sorted[sorted.count / 2]
    }
}
