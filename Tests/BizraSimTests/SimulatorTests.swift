import Testing

@testable import BizraSim

@Suite struct SimulatorTests {
    @Test func deliversMessagesAfterTheLinkDelay() {
        var sim = probeSimulator(nodes: 2)
        var workload = ScriptWorkload([(0, 0, .send(to: 1, value: 7))])
        workload.start(&sim)
        sim.run(until: 1_000, workload: &workload)
        let received = sim.nodes[1]!.received
        #expect(received.count == 1)
        #expect(received.first?.value == 7)
        #expect(received.first?.localTime == 110)  // client link 10 µs + network 100 µs
    }

    @Test func lossDropsAndDuplicationCopies() {
        var sim = probeSimulator(nodes: 2)
        var links = sim.network.defaultLink
        links.lossPerMillion = 1_000_000
        sim.network.setLink(from: 0, to: 1, links)
        links.lossPerMillion = 0
        links.duplicatePerMillion = 1_000_000
        sim.network.setLink(from: 1, to: 0, links)
        var workload = ScriptWorkload([(0, 0, .send(to: 1, value: 1)), (0, 1, .send(to: 0, value: 2))])
        workload.start(&sim)
        sim.run(until: 10_000, workload: &workload)
        #expect(sim.nodes[1]!.received.isEmpty)
        #expect(sim.nodes[0]!.received.map(\.value) == [2, 2])
        #expect(sim.stats.messagesLost == 1 && sim.stats.messagesDuplicated == 1)
    }

    @Test func partitionBlocksInFlightMessagesAndHealingRestores() {
        var sim = probeSimulator(nodes: 3)
        sim.schedule(fault: .partition(.isolate(2)), at: 50)  // after the send, before delivery
        sim.schedule(fault: .healPartitions, at: 5_000)
        var workload = ScriptWorkload([
            (0, 0, .send(to: 2, value: 1)), (0, 0, .send(to: 1, value: 2)), (6_000, 0, .send(to: 2, value: 3)),
        ])
        workload.start(&sim)
        sim.run(until: 10_000, workload: &workload)
        #expect(sim.nodes[2]!.received.map(\.value) == [3])
        #expect(sim.nodes[1]!.received.map(\.value) == [2])
        #expect(sim.stats.messagesBlockedByPartition == 1)
    }

    /// The long tail: each doubling happens with `tailPerMillion`, at most `tailDoublingsMax`
    /// times, so delays are the base delay times a power of two up to 2^max.
    @Test func tailDoublesDelaysUpToItsLimit() {
        var sim = probeSimulator(nodes: 2, seed: 5)
        var links = sim.network.defaultLink
        links.tailPerMillion = 500_000
        links.tailDoublingsMax = 3
        sim.network.defaultLink = links
        var workload = ScriptWorkload((0..<200).map { (SimTime($0) * 1_000_000, 0, .send(to: 1, value: $0)) })
        workload.start(&sim)
        sim.run(until: 300_000_000, workload: &workload)
        let delays = Set(sim.nodes[1]!.received.map { $0.localTime - SimTime($0.value) * 1_000_000 - 10 })
        #expect(delays == [100, 200, 400, 800])
    }

    @Test func clogHoldsMessagesUntilItEnds() {
        var sim = probeSimulator(nodes: 2)
        sim.schedule(fault: .clog(1, duration: 5_000), at: 0)
        var workload = ScriptWorkload([(1, 0, .send(to: 1, value: 1))])
        workload.start(&sim)
        sim.run(until: 20_000, workload: &workload)
        #expect(sim.nodes[1]!.received.first?.localTime == 5_100)
    }

    @Test func crashLosesVolatileStateAndRestartRecoversDurableRecords() {
        var sim = probeSimulator(nodes: 1)
        sim.schedule(fault: .crash(0), at: 2_000)
        sim.schedule(fault: .restart(0), at: 3_000)
        var workload = ScriptWorkload([(0, 0, .persist(10)), (1_500, 0, .persist(11)), (1_600, 0, .timer(after: 10))])
        workload.start(&sim)
        sim.run(until: 10_000, workload: &workload)
        let node = sim.nodes[0]!
        #expect(node.received.isEmpty && node.timerLocalTimes.isEmpty)  // the restarted node is fresh
        #expect(node.recovered.records.first == 10)  // synced at 1,010 µs
        #expect(sim.stats.crashes == 1 && sim.stats.restarts == 1)
    }

    /// Over many seeds a crash with a write in flight sometimes keeps it, sometimes loses it, and
    /// sometimes tears it; a durable write is never lost.
    @Test func crashesLoseOrTearUnsyncedWritesButNeverSyncedOnes() {
        var outcomes = Set<String>()
        for seed in 1...200 as ClosedRange<UInt64> {
            var sim = probeSimulator(nodes: 1, seed: seed)
            sim.schedule(fault: .crash(0), at: 1_500)
            sim.schedule(fault: .restart(0), at: 1_600)
            var workload = ScriptWorkload([(0, 0, .persist(1)), (1_100, 0, .persist(2)), (1_200, 0, .persist(3))])
            workload.start(&sim)
            sim.run(until: 5_000, workload: &workload)
            let recovered = sim.nodes[0]!.recovered
            #expect(recovered.records.first == 1)
            #expect([[1], [1, 2], [1, 2, 3]].contains(recovered.records))
            outcomes.insert("\(recovered.records.count)\(recovered.tornTailDropped ? "t" : "")")
        }
        #expect(outcomes.contains("1") && outcomes.contains("2") && outcomes.contains("3"))
        #expect(outcomes.contains("1t") || outcomes.contains("2t"))
    }

    @Test func pausedNodeHandlesNothingUntilResumed() {
        var sim = probeSimulator(nodes: 2)
        sim.schedule(fault: .pause(1), at: 0)
        sim.schedule(fault: .resume(1), at: 8_000)
        var workload = ScriptWorkload([(5, 0, .send(to: 1, value: 1)), (5, 1, .timer(after: 1))])
        workload.start(&sim)
        sim.run(until: 7_000, workload: &workload)
        #expect(sim.nodes[1]!.received.isEmpty)
        sim.run(until: 20_000, workload: &workload)
        #expect(sim.nodes[1]!.received.map(\.localTime) == [8_000])
        #expect(sim.nodes[1]!.timerLocalTimes == [8_001])  // the request waited, then the 1 µs timer
    }

    /// The kernel finishes an fsync for a stopped process: the write is durable on time, and the
    /// node hears of it at resume (or never, if it crashes first — but the record survives).
    @Test func writesCompleteWhilePausedAndTheNodeHearsAtResume() {
        var sim = probeSimulator(nodes: 1)
        sim.schedule(fault: .pause(0), at: 500)
        sim.schedule(fault: .resume(0), at: 3_000)
        var workload = ScriptWorkload([(0, 0, .persist(1))])
        workload.start(&sim)
        sim.run(until: 2_000, workload: &workload)
        #expect(sim.disks[0].durable == [1])
        #expect(sim.nodes[0]!.durableTokens.isEmpty)
        sim.run(until: 4_000, workload: &workload)
        #expect(sim.nodes[0]!.durableTokens == [1])
        for seed in 1...20 as ClosedRange<UInt64> {
            var crashing = probeSimulator(nodes: 1, seed: seed)
            crashing.schedule(fault: .pause(0), at: 500)
            crashing.schedule(fault: .crash(0), at: 2_000)
            crashing.schedule(fault: .restart(0), at: 2_500)
            var script = ScriptWorkload([(0, 0, .persist(1))])
            script.start(&crashing)
            crashing.run(until: 4_000, workload: &script)
            #expect(crashing.nodes[0]!.recovered.records == [1])
        }
    }

    @Test func clockOffsetAndDriftSkewLocalTimeAndTimers() {
        var sim = probeSimulator(nodes: 1)
        sim.schedule(fault: .setClock(0, NodeClock(offset: 1_000_000, driftPPM: 100_000)), at: 0)
        var workload = ScriptWorkload([(0, 0, .timer(after: 110_000))])
        workload.start(&sim)
        sim.run(until: 1_000_000, workload: &workload)
        // The request arrives at virtual 10 µs = local 1,000,011 µs; a 10%-fast clock then fires a
        // 110,000 µs timer after 100,000 virtual µs, when the local clock reads 110,000 µs later.
        let fired = sim.nodes[0]!.timerLocalTimes
        #expect(fired.count == 1)
        #expect(abs((fired.first ?? 0) - 1_110_011) <= 2)
        #expect(sim.stats.events == 4)
    }

    @Test func invariantFailureStopsTheRunWithItsName() {
        var sim = probeSimulator(nodes: 2)
        sim.invariants = [SimInvariant(name: "nothingReceived") { $0.nodes[1]!.received.isEmpty ? nil : "got one" }]
        var workload = ScriptWorkload([(0, 0, .send(to: 1, value: 1)), (5_000, 0, .send(to: 1, value: 2))])
        workload.start(&sim)
        let failure = sim.run(until: 10_000, workload: &workload)
        #expect(failure?.check == "invariant nothingReceived")
        #expect(failure?.time == 110)
        #expect(sim.nodes[1]!.received.count == 1)
    }

    /// Invariants learn which node an event could have changed: the receiver of an input, every
    /// node after a fault, none after a client event.
    @Test func lastTouchedNamesTheNodeAnEventReached() {
        var sim = probeSimulator(nodes: 3)
        sim.schedule(fault: .clog(2, duration: 1), at: 300)
        let seen = SeenTouches()
        sim.invariants = [
            SimInvariant(name: "record") { sim in
                seen.append(sim.lastTouched)
                return nil
            }
        ]
        var workload = ScriptWorkload([(0, 0, .send(to: 1, value: 1))])
        workload.start(&sim)
        sim.run(until: 1_000, workload: &workload)
        // wake (client), request at node 0, delivery at node 1, the clog fault.
        #expect(seen.values == [.none, .node(0), .node(1), .all])
    }

    /// One subsystem drawing more random numbers must not move another's draws: extra client
    /// draws leave every network delay where it was.
    @Test func extraDrawsInOneSubsystemDoNotPerturbAnother() {
        func deliveryTimes(extraClientDraws: Int) -> [SimTime] {
            var sim = probeSimulator(nodes: 2, seed: 77)
            var links = sim.network.defaultLink
            links.delayMax = 5_000
            sim.network.defaultLink = links
            for _ in 0..<extraClientDraws { _ = sim.clientRNG.next() }
            var workload = ScriptWorkload((0..<20).map { (SimTime($0) * 10, 0, .send(to: 1, value: $0)) })
            workload.start(&sim)
            sim.run(until: 100_000, workload: &workload)
            return sim.nodes[1]!.received.sorted { $0.value < $1.value }.map(\.localTime)
        }
        #expect(deliveryTimes(extraClientDraws: 0) == deliveryTimes(extraClientDraws: 1_000))
    }

    @Test func repliesReachTheClient() {
        var sim = probeSimulator(nodes: 1)
        var workload = ScriptWorkload([(0, 0, .echo(5))])
        workload.start(&sim)
        sim.run(until: 1_000, workload: &workload)
        #expect(workload.replies.map(\.value) == [5])
        #expect(workload.replies.first?.at == 20)
    }
}

/// Collects what an invariant saw (invariants are `@Sendable` closures; tests run one simulator
/// per test, so a lock-free box is enough here).
final class SeenTouches: @unchecked Sendable {
    var values: [Simulator<ProbeNode>.Touched] = []
    func append(_ value: Simulator<ProbeNode>.Touched) { values.append(value) }
}
