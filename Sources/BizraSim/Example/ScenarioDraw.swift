/// What every swarm scenario draws from its seed before it builds a simulator: the cluster
/// size and the fault plan, from the scenario stream (fork 9) in that order, and the settings.
/// One place, so that every scenario's seeds mean the same thing.
struct ScenarioDraw {
    let clusterSize: Int
    let plan: FaultPlan
    var settings: SimSettings

    init(seed: UInt64, clusterSizes: ClosedRange<Int>, activeDuration: SimTime, recordTrace: Bool) {
        var scenarioRNG = SimRNG(seed: seed).fork(stream: 9)
        clusterSize = clusterSizes.lowerBound + scenarioRNG.below(clusterSizes.count)
        plan = FaultPlan.draw(rng: &scenarioRNG, clusterSize: clusterSize, activeDuration: activeDuration)
        settings = SimSettings(clusterSize: clusterSize, seed: seed)
        settings.recordTrace = recordTrace
    }
}
