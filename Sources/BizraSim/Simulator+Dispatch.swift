/// The event loop's inner step: route one event to a node, a client or the nemesis, then carry
/// out the node's actions (sends through the faulty network, timers, disk writes, replies).
extension Simulator {
    @inline(__always)
    mutating func dispatch<W: SimWorkload>(_ event: Event, workload: inout W) where W.Node == Node {
        switch event.kind {
        case .deliver(let from, let to, let message):
            deliver(event, from: Int(from), to: Int(to), message: message)
        case .timer(let node, let timer):
            fireTimer(event, node: Int(node), timer: Int(timer))
        case .diskSync(let node, let epoch):
            completeWrite(node: Int(node), epoch: epoch)
        case .diskNotify(let node, let epoch, let token):
            notifyPersisted(node: Int(node), epoch: epoch, token: token)
        case .request(let node, let id, let request):
            handleRequest(event, node: Int(node), id: id, request: request)
        case .reply(let client, let id, let response):
            trace.mix(0x5 << 32 | UInt64(UInt32(client)))
            if trace.recording { trace.append("\(now) reply c\(client) r\(id) \(response)") }
            workload.replied(client: Int(client), id: id, response: response, &self)
        case .clientWake(let client):
            trace.mix(0x6 << 32 | UInt64(UInt32(client)))
            if trace.recording { trace.append("\(now) wake c\(client)") }
            workload.wake(client: Int(client), &self)
        case .fault(let fault):
            trace.mix(0x7 << 32)
            if trace.recording { trace.append("\(now) fault \(fault)") }
            lastTouched = .all
            apply(fault)
        }
    }

    /// If `node` is paused, keeps `event` for its resumption and returns true.
    @inline(__always)
    mutating func deferIfPaused(_ event: Event, node: NodeID) -> Bool {
        guard paused[node] else { return false }
        if pausedInbox[node].count < SimulatorLimits.pausedInboxMax {
            pausedInbox[node].append(event)
        } else {
            stats.refusedByLimit += 1
        }
        return true
    }

    private mutating func deliver(_ event: Event, from: NodeID, to: NodeID, message: Node.Message) {
        if network.isBlocked(from: from, to: to) {
            stats.messagesBlockedByPartition += 1
            if trace.recording { trace.append("\(now) blocked \(from)->\(to) \(message)") }
            return
        }
        guard nodes[to] != nil else {
            stats.messagesToDownNodes += 1
            if trace.recording { trace.append("\(now) to-down-node \(from)->\(to) \(message)") }
            return
        }
        if deferIfPaused(event, node: to) { return }
        stats.messagesDelivered += 1
        trace.mix(0x1 << 32 | UInt64(from) << 16 | UInt64(to))
        if trace.recording { trace.append("\(now) deliver \(from)->\(to) \(message)") }
        withNode(to) { node, context in node.receive(message, from: from, context: &context) }
    }

    private mutating func fireTimer(_ event: Event, node: NodeID, timer: Int) {
        guard timerArmed[node * SimulatorLimits.timersPerNodeMax + timer] == event.sequence else { return }
        if deferIfPaused(event, node: node) { return }
        timerArmed[node * SimulatorLimits.timersPerNodeMax + timer] = 0
        trace.mix(0x2 << 32 | UInt64(node) << 8 | UInt64(timer))
        if trace.recording { trace.append("\(now) timer n\(node) t\(timer)") }
        withNode(node) { state, context in state.timerFired(timer, context: &context) }
    }

    /// The oldest in-flight write of `node` becomes durable now, even if the node is paused (the
    /// kernel finishes an fsync for a stopped process); a paused node hears of it at resume.
    private mutating func completeWrite(node: NodeID, epoch: UInt32) {
        guard epochs[node] == epoch, nodes[node] != nil else { return }
        guard let token = disks[node].completeOldest() else { return }
        let notify = Event(time: now, sequence: 0, kind: .diskNotify(node: Int32(node), epoch: epoch, token: token))
        if deferIfPaused(notify, node: node) { return }
        notifyPersisted(node: node, epoch: epoch, token: token)
    }

    private mutating func notifyPersisted(node: NodeID, epoch: UInt32, token: UInt64) {
        guard epochs[node] == epoch, nodes[node] != nil else { return }
        trace.mix(0x3 << 32 | UInt64(node) << 32 | token)
        if trace.recording { trace.append("\(now) synced n\(node) token \(token)") }
        withNode(node) { state, context in state.persisted(token: token, context: &context) }
    }

    private mutating func handleRequest(_ event: Event, node: NodeID, id: RequestID, request: Node.Request) {
        guard nodes[node] != nil else { return }
        if deferIfPaused(event, node: node) { return }
        trace.mix(0x4 << 32 | UInt64(node) << 32 | UInt64(id))
        if trace.recording { trace.append("\(now) request n\(node) r\(id) \(request)") }
        withNode(node) { state, context in state.clientRequest(request, id: id, context: &context) }
    }

    /// Calls `body` on node `id` in place with a fresh context, then performs its actions.
    @inline(__always)
    mutating func withNode(_ id: NodeID, _ body: (inout Node, inout Node.Context) -> Void) {
        if lastTouched == .none { lastTouched = .node(id) }
        var context = Node.Context(
            id: id, clusterSize: clusterSize, localTime: clocks[id].local(now), rng: nodeRNG[id], actions: [])
        swap(&context.actions, &outbox)
        if nodes[id] != nil { body(&nodes[id]!, &context) }
        nodeRNG[id] = context.rng
        swap(&context.actions, &outbox)
        perform(node: id)
    }

    /// Carries out the actions a node just produced, in order.
    mutating func perform(node id: NodeID) {
        for index in outbox.indices {
            switch outbox[index] {
            case .send(let to, let message): send(message, from: id, to: to)
            case .setTimer(let timer, let after): setTimer(node: id, timer: timer, after: after)
            case .persist(let record, let token): startWrite(record, token: token, node: id)
            case .sometimes(let name): coverage.hit(name)
            case .reply(let request, let response):
                let delay = clientRNG.uniform(settings.clientLatency)
                schedule(.reply(client: requestClients[request], id: request, response: response), at: now + delay)
            }
        }
        outbox.removeAll(keepingCapacity: true)
    }

    @inline(__always)
    private mutating func send(_ message: Node.Message, from: NodeID, to: NodeID) {
        stats.messagesSent += 1
        let link = network.link(from: from, to: to)
        if networkRNG.chance(perMillion: link.lossPerMillion) {
            stats.messagesLost += 1
            if trace.recording { trace.append("\(now) lost \(from)->\(to) \(message)") }
            return
        }
        let copies = networkRNG.chance(perMillion: link.duplicatePerMillion) ? 2 : 1
        if copies == 2 {
            stats.messagesDuplicated += 1
            if trace.recording { trace.append("\(now) duplicated \(from)->\(to) \(message)") }
        }
        for _ in 0..<copies {
            var delay = networkRNG.uniform(link.delayMin...link.delayMax)
            if networkRNG.chance(perMillion: link.reorderPerMillion) {
                delay += networkRNG.uniform(0...link.reorderExtraMax)
            }
            var doublings = 0
            while doublings < link.tailDoublingsMax && networkRNG.chance(perMillion: link.tailPerMillion) {
                delay *= 2
                doublings += 1
            }
            let start = max(now, network.cloggedUntil[from], network.cloggedUntil[to])
            schedule(.deliver(from: Int32(from), to: Int32(to), message: message), at: start + delay)
        }
    }

    private mutating func setTimer(node: NodeID, timer: Int, after: SimTime) {
        guard timer >= 0 && timer < SimulatorLimits.timersPerNodeMax else {
            stats.refusedByLimit += 1
            return
        }
        let when = now + clocks[node].virtualDelay(after)
        let seq = schedule(.timer(node: Int32(node), timer: Int32(timer)), at: when)
        timerArmed[node * SimulatorLimits.timersPerNodeMax + timer] = seq
    }

    private mutating func startWrite(_ record: Node.Record, token: UInt64, node: NodeID) {
        guard disks[node].recordCount < SimulatorLimits.diskRecordsMax else {
            stats.refusedByLimit += 1
            return
        }
        disks[node].start(record, token: token)
        let done = max(now, disks[node].lastCompletion) + diskRNG.uniform(settings.diskLatency)
        disks[node].lastCompletion = done
        schedule(.diskSync(node: Int32(node), epoch: epochs[node]), at: done)
    }
}
