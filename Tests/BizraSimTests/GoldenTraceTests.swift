import Testing

@testable import BizraSim

/// A scripted run with every fault kind, whose event trace is fixed here as text. It reads as
/// a specification of the simulator's semantics (delays, loss, duplication, partitions at
/// delivery, crash with unsynced writes, pause, clock skew), and it fails if a change to the
/// RNG, the event order or a fault's effect would make recorded seeds stop replaying. If a
/// change is intended, print `goldenRun().text` and paste it below, saying why in the commit.
@Suite struct GoldenTraceTests {
    static func goldenRun() -> SimTrace {
        var sim = probeSimulator(nodes: 3, seed: 2_026, trace: true)
        var links = sim.network.defaultLink
        links.delayMax = 400
        links.lossPerMillion = 150_000
        links.duplicatePerMillion = 300_000
        sim.network.defaultLink = links
        sim.schedule(fault: .setClock(2, NodeClock(offset: 5_000, driftPPM: 20_000)), at: 0)
        sim.schedule(fault: .partition(.oneWay(from: [1], to: [0])), at: 1_000)
        sim.schedule(fault: .pause(2), at: 1_500)
        sim.schedule(fault: .crash(0), at: 2_300)
        sim.schedule(fault: .resume(2), at: 2_600)
        sim.schedule(fault: .healAll, at: 3_000)
        var script: [(at: SimTime, node: NodeID, request: ProbeNode.Request)] = []
        for step in 0..<6 {
            script.append((SimTime(step) * 400, step % 3, .send(to: (step + 2) % 3, value: step)))
        }
        script += [
            (2_000, 0, .persist(7)), (2_100, 0, .persist(8)), (1_600, 2, .timer(after: 500)), (3_500, 0, .echo(1)),
        ]
        script.append((1_700, 1, .send(to: 0, value: 9)))
        var workload = ScriptWorkload(script)
        workload.start(&sim)
        sim.run(until: 6_000, workload: &workload)
        return sim.trace
    }

    static let golden = """
        0 fault clock(2,5000,20000ppm)
        0 wake c0
        10 request n0 r0 send(2,0)
        343 deliver 0->2 0
        400 wake c1
        410 request n1 r1 send(0,1)
        410 duplicated 1->0 1
        652 deliver 1->0 1
        705 deliver 1->0 1
        800 wake c2
        810 request n2 r2 send(1,2)
        810 duplicated 2->1 2
        975 deliver 2->1 2
        988 deliver 2->1 2
        1000 fault partition(oneWay([1]->[0]))
        1200 wake c3
        1210 request n0 r3 send(2,3)
        1210 duplicated 0->2 3
        1343 deliver 0->2 3
        1474 deliver 0->2 3
        1500 fault pause(2)
        1600 wake c4
        1600 wake c8
        1610 request n1 r4 send(0,4)
        1610 lost 1->0 4
        1700 wake c10
        1710 request n1 r6 send(0,9)
        1908 blocked 1->0 9
        2000 wake c5
        2000 wake c6
        2010 request n0 r8 persist(7)
        2100 wake c7
        2110 request n0 r9 persist(8)
        2300 fault crash(0)
        2300 crashed n0: 1 of 2 unsynced writes reached disk, torn false
        2600 fault resume(2)
        2600 request n2 r5 timer(500)
        2600 request n2 r7 send(1,5)
        2886 deliver 2->1 5
        3000 fault healAll
        3090 timer n2 t0
        3500 wake c9
        3510 request n0 r10 echo(1)
        3520 reply c9 r10 1
        """

    @Test func scriptedRunMatchesItsGoldenTrace() {
        let trace = Self.goldenRun()
        #expect(trace.text == Self.golden + "\n")
    }
}
