/// The nemesis: how each `FaultAction` changes nodes, disks, clocks and the network.
extension Simulator {
    mutating func apply(_ fault: FaultAction) {
        switch fault {
        case .crash(let node): crash(node)
        case .restart(let node): restart(node)
        case .pause(let node):
            if nodes[node] != nil && !paused[node] {
                paused[node] = true
                stats.pauses += 1
            }
        case .resume(let node): resume(node)
        case .clog(let node, let duration):
            network.cloggedUntil[node] = max(network.cloggedUntil[node], now + duration)
            coverage.hit("fault.clog")
        case .partition(let shape):
            network.apply(shape)
            coverage.hit("fault.partition")
        case .setLinks(let links): network.defaultLink = links
        case .setLink(let from, let to, let links):
            if !network.setLink(from: from, to: to, links) { stats.refusedByLimit += 1 }
        case .setClock(let node, let clock): clocks[node] = clock
        case .healPartitions: network.clearPartitions()
        case .healAll: healAll()
        }
    }

    /// Removes every fault: partitions and link faults go, paused nodes resume, crashed nodes
    /// restart. Clock skew stays (a healed network does not fix an oscillator).
    package mutating func healAll() {
        network.heal()
        for node in 0..<clusterSize {
            network.cloggedUntil[node] = min(network.cloggedUntil[node], now)
            if nodes[node] == nil { restart(node) }
            if paused[node] { resume(node) }
        }
    }

    mutating func boot(_ node: NodeID) {
        let recovered = RecoveredDisk(records: disks[node].durable, tornTailDropped: lastCrashTore[node])
        var context = Node.Context(
            id: node, clusterSize: clusterSize, localTime: clocks[node].local(now), rng: nodeRNG[node],
            actions: [])
        swap(&context.actions, &outbox)
        nodes[node] = Node(
            id: node, clusterSize: clusterSize, config: nodeConfig, recovered: recovered, context: &context)
        nodeRNG[node] = context.rng
        swap(&context.actions, &outbox)
        perform(node: node)
    }

    private mutating func crash(_ node: NodeID) {
        guard nodes[node] != nil else { return }
        nodes[node] = nil
        epochs[node] &+= 1
        paused[node] = false
        pausedInbox[node].removeAll()
        let base = node * SimulatorLimits.timersPerNodeMax
        for timer in 0..<SimulatorLimits.timersPerNodeMax { timerArmed[base + timer] = 0 }
        let unsynced = disks[node].inFlightCount
        var keep = 0
        var tear = false
        if unsynced > 0 && faultRNG.chance(perMillion: settings.crashKeepsSomeUnsyncedPerMillion) {
            keep = 1 + faultRNG.below(unsynced)
            tear = faultRNG.chance(perMillion: settings.tornWritePerMillion)
        }
        lastCrashTore[node] = disks[node].crash(keep: keep, tearLast: tear).tornTailDropped
        if trace.recording {
            trace.append(
                "\(now) crashed n\(node): \(keep) of \(unsynced) unsynced writes reached disk, torn \(tear && keep > 0)"
            )
        }
        stats.crashes += 1
        coverage.hit("fault.crash")
        if unsynced > keep || (tear && keep > 0) {
            stats.crashesWithUnsyncedWrites += 1
            coverage.hit("fault.crashLostUnsyncedWrites")
        }
        if lastCrashTore[node] {
            stats.tornWrites += 1
            coverage.hit("fault.tornWrite")
        }
    }

    private mutating func restart(_ node: NodeID) {
        guard nodes[node] == nil else { return }
        stats.restarts += 1
        boot(node)
    }

    private mutating func resume(_ node: NodeID) {
        guard paused[node] else { return }
        paused[node] = false
        coverage.hit("fault.pause")
        let held = pausedInbox[node]
        pausedInbox[node].removeAll()
        for event in held {
            let seq = schedule(event.kind, at: now)
            if case .timer(let owner, let timer) = event.kind {
                let slot = Int(owner) * SimulatorLimits.timersPerNodeMax + Int(timer)
                if timerArmed[slot] == event.sequence { timerArmed[slot] = seq }
            }
        }
    }
}
