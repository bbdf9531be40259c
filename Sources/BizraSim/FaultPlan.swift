/// Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): each seed draws which fault kinds
/// are enabled and how hard they hit, then a nemesis schedule of faults over the active period.
/// Seeds that leave most faults off test deep paths that a busy mix would never reach.
package struct FaultPlan: Equatable, Sendable, CustomStringConvertible {
    /// Which fault kinds this seed enabled.
    package struct Mix: Equatable, Sendable {
        package var crashes = false
        package var pauses = false
        package var clogs = false
        package var partitions = false
        package var lossyLinks = false
        package var clockSkew = false
    }

    package var mix = Mix()
    /// The faults to apply and when; all of them are undone by a `healAll` at the end of the active period.
    package var schedule: [(time: SimTime, fault: FaultAction)] = []

    package init() {}

    package static func == (lhs: FaultPlan, rhs: FaultPlan) -> Bool {
        lhs.mix == rhs.mix && lhs.schedule.elementsEqual(rhs.schedule) { $0.time == $1.time && $0.fault == $1.fault }
    }

    package var description: String {
        var kinds: [String] = []
        if mix.crashes { kinds.append("crash") }
        if mix.pauses { kinds.append("pause") }
        if mix.clogs { kinds.append("clog") }
        if mix.partitions { kinds.append("partition") }
        if mix.lossyLinks { kinds.append("lossy") }
        if mix.clockSkew { kinds.append("skew") }
        return "faults[\(kinds.isEmpty ? "none" : kinds.joined(separator: ","))] \(schedule.count) events"
    }

    /// Draws a plan for `clusterSize` nodes over `0..<activeDuration` µs from `rng`.
    package static func draw(rng: inout SimRNG, clusterSize: Int, activeDuration: SimTime) -> FaultPlan {
        var plan = FaultPlan()
        plan.mix = Mix(
            crashes: rng.chance(perMillion: 500_000), pauses: rng.chance(perMillion: 400_000),
            clogs: rng.chance(perMillion: 400_000), partitions: rng.chance(perMillion: 500_000),
            lossyLinks: rng.chance(perMillion: 500_000), clockSkew: rng.chance(perMillion: 400_000))
        if plan.mix.lossyLinks {
            plan.schedule.append((0, .setLinks(drawLinks(&rng))))
            for _ in 0..<rng.below(4) {
                let from = rng.below(clusterSize)
                let to = rng.below(clusterSize)
                plan.schedule.append((0, .setLink(from: from, to: to, drawLinks(&rng))))
            }
        }
        if plan.mix.clockSkew {
            for node in 0..<clusterSize where rng.chance(perMillion: 500_000) {
                let clock = NodeClock(
                    offset: rng.uniform(-1_000_000...1_000_000), driftPPM: rng.uniform(-50_000...50_000))
                plan.schedule.append((0, .setClock(node, clock)))
            }
        }
        let kinds = plan.enabledTimedKinds
        guard !kinds.isEmpty else { return plan }
        let meanGap = rng.uniform(20_000...200_000)
        var time = rng.uniform(0...meanGap)
        while time < activeDuration && plan.schedule.count < FaultPlan.scheduledFaultsMax {
            plan.addFault(kinds[rng.below(kinds.count)], at: time, clusterSize: clusterSize, rng: &rng)
            time += rng.uniform(1...(2 * meanGap))
        }
        return plan
    }

    /// The schedule entries at `indices` (all of them when nil), in schedule order.
    package func selecting(_ indices: [Int]?) -> [(time: SimTime, fault: FaultAction)] {
        guard let indices else { return schedule }
        return indices.sorted().filter { schedule.indices.contains($0) }.map { schedule[$0] }
    }

    /// Faults one plan may schedule (bounded so one seed cannot flood the event heap).
    package static let scheduledFaultsMax = 512

    private var enabledTimedKinds: [Int] {
        [mix.crashes, mix.pauses, mix.clogs, mix.partitions].enumerated().filter { $0.element }.map { $0.offset }
    }

    private static func drawLinks(_ rng: inout SimRNG) -> LinkFaults {
        var links = LinkFaults()
        links.delayMin = rng.uniform(50...500)
        links.delayMax = links.delayMin + rng.uniform(0...20_000)
        links.lossPerMillion = Int(rng.uniform(0...200_000))
        links.duplicatePerMillion = Int(rng.uniform(0...100_000))
        links.reorderPerMillion = Int(rng.uniform(0...200_000))
        links.reorderExtraMax = rng.uniform(1_000...50_000)
        // From a fork, so adding the tail did not change the draws (and fault plans) of
        // seeds recorded before it existed.
        var tailRNG = rng.fork(stream: UInt64(bitPattern: links.reorderExtraMax))
        links.tailPerMillion = tailRNG.chance(perMillion: 500_000) ? Int(tailRNG.uniform(10_000...300_000)) : 0
        return links
    }

    private mutating func addFault(_ kind: Int, at time: SimTime, clusterSize: Int, rng: inout SimRNG) {
        let node = rng.below(clusterSize)
        let duration = rng.uniform(1_000...300_000)
        switch kind {
        case 0:
            schedule.append((time, .crash(node)))
            schedule.append((time + duration, .restart(node)))
        case 1:
            schedule.append((time, .pause(node)))
            schedule.append((time + duration, .resume(node)))
        case 2:
            schedule.append((time, .clog(node, duration: duration)))
        default:
            schedule.append((time, .partition(FaultPlan.drawShape(&rng, clusterSize: clusterSize))))
            schedule.append((time + duration, .healPartitions))
        }
    }

    /// One of the named partition shapes over a random permutation of the nodes.
    package static func drawShape(_ rng: inout SimRNG, clusterSize: Int) -> PartitionShape {
        var order = Array(0..<clusterSize)
        for index in stride(from: clusterSize - 1, to: 0, by: -1) { order.swapAt(index, rng.below(index + 1)) }
        let minority = Array(order.prefix((clusterSize - 1) / 2))
        switch rng.below(5) {
        case 0: return .isolate(order[0])
        case 1: return .split(minority)
        case 2:
            guard clusterSize >= 3 else { return .isolate(order[0]) }
            let half = (clusterSize - 1) / 2
            return .bridge(left: Array(order[0..<half]), bridge: order[half], right: Array(order[(half + 1)...]))
        case 3: return .ringMajorities(order: order)
        default:
            return .oneWay(from: minority.isEmpty ? [order[0]] : minority, to: Array(order.suffix(clusterSize / 2 + 1)))
        }
    }
}
