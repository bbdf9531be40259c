import Testing

@testable import BizraBus

@Suite struct ServiceRegistryTests {
    static func instance(_ number: UInt32, services: [String] = ["worker"], at micros: Int64 = 0, link: Bool = false)
        -> ServiceRegistry.Instance
    {
        ServiceRegistry.Instance(
            principal: Principal(node: "n1", component: link ? "compression" : "worker", instance: number),
            services: services, pid: 100 + Int(number), metricsPort: 0, isLink: link, registeredMicros: micros,
            lastHeartbeatMicros: micros)
    }

    static func principal(_ number: UInt32) -> Principal {
        Principal(node: "n1", component: "worker", instance: number)
    }

    @Test func serviceIsDispatchedRoundRobinOverItsInstances() {
        var registry = ServiceRegistry()
        for number in [2, 0, 1, 9] as [UInt32] {
            let added = registry.register(Self.instance(number, services: number == 9 ? ["other"] : ["worker"]))
            #expect(added)
        }
        let picks = (0..<6).map { _ in registry.pick(service: "worker")?.instance }
        #expect(picks == [0, 1, 2, 0, 1, 2])
        let other = registry.pick(service: "other")
        let missing = registry.pick(service: "missing")
        #expect(other?.instance == 9)
        #expect(missing == nil)
    }

    @Test func unhealthyAndSkippedInstancesAreNotPicked() {
        var registry = ServiceRegistry()
        for number in 0..<3 as Range<UInt32> { _ = registry.register(Self.instance(number)) }
        let sick = registry.heartbeat(
            Self.principal(1), nowMicros: 5, healthy: false, inflight: 0, handled: 0, failed: 0)
        #expect(sick)
        let picks = Set((0..<4).compactMap { _ in registry.pick(service: "worker")?.instance })
        #expect(picks == [0, 2])
        let skipped = registry.pick(service: "worker", skip: [Self.principal(0), Self.principal(2)])
        #expect(skipped == nil)
        let well = registry.heartbeat(
            Self.principal(1), nowMicros: 6, healthy: true, inflight: 3, handled: 4, failed: 1)
        #expect(well)
        let recovered = registry.pick(service: "worker", skip: [Self.principal(0), Self.principal(2)])
        #expect(recovered?.instance == 1)
        #expect(registry.instances[Self.principal(1)]?.inflight == 3)
    }

    @Test func heartbeatOfAnUnknownInstanceIsRefused() {
        var registry = ServiceRegistry()
        let known = registry.heartbeat(
            Self.principal(4), nowMicros: 1, healthy: true, inflight: 0, handled: 0, failed: 0)
        #expect(!known)
    }

    @Test func instancesSilentPastTheTimeoutExpireInNameOrder() {
        var registry = ServiceRegistry()
        for number in 0..<4 as Range<UInt32> { _ = registry.register(Self.instance(number, at: 0)) }
        _ = registry.heartbeat(Self.principal(2), nowMicros: 900, healthy: true, inflight: 0, handled: 0, failed: 0)
        let none = registry.expire(nowMicros: 1000, timeoutMicros: 1000)
        #expect(none.isEmpty, "exactly at the timeout is still alive")
        let gone = registry.expire(nowMicros: 1001, timeoutMicros: 1000)
        #expect(gone.map(\.instance) == [0, 1, 3])
        #expect(registry.instances.count == 1)
        let survivor = registry.pick(service: "worker")
        #expect(survivor?.instance == 2)
    }

    @Test func removeForgetsTheInstanceAndItsRoute() {
        var registry = ServiceRegistry()
        _ = registry.register(Self.instance(0))
        registry.learnRoute(Self.principal(0), id: [0, 1, 2], nowMicros: 1)
        #expect(registry.routingID(Self.principal(0)) == [0, 1, 2])
        registry.remove(Self.principal(0))
        #expect(registry.routingID(Self.principal(0)) == nil)
        let pick = registry.pick(service: "worker")
        #expect(pick == nil)
    }

    @Test func routeTableIsBoundedAndEvictsTheOldestUnregisteredSender() {
        var registry = ServiceRegistry()
        _ = registry.register(Self.instance(0))
        registry.learnRoute(Self.principal(0), id: [0], nowMicros: 0)
        for index in 1..<ServiceRegistry.routesMax {
            registry.learnRoute(
                Principal(node: "client", component: "c\(index)", instance: 0), id: [1], nowMicros: Int64(index))
        }
        #expect(registry.routes.count == ServiceRegistry.routesMax)
        registry.learnRoute(Principal(node: "client", component: "new", instance: 0), id: [2], nowMicros: 99_999)
        #expect(registry.routes.count == ServiceRegistry.routesMax)
        #expect(registry.routingID(Self.principal(0)) == [0], "registered instances keep their routes")
        #expect(registry.routingID(Principal(node: "client", component: "c1", instance: 0)) == nil)
    }

    @Test func instanceTableIsBounded() {
        var registry = ServiceRegistry()
        let added = (0..<UInt32(ServiceRegistry.instancesMax)).filter { registry.register(Self.instance($0)) }
        #expect(added.count == ServiceRegistry.instancesMax)
        let extra = registry.register(Self.instance(UInt32(ServiceRegistry.instancesMax)))
        #expect(!extra)
        let again = registry.register(Self.instance(0, services: ["again"]))
        #expect(again, "re-registration always fits")
    }

    @Test func linkIsTheLowestNumberedRegisteredLinkInstance() {
        var registry = ServiceRegistry()
        #expect(registry.link == nil)
        _ = registry.register(Self.instance(0))
        _ = registry.register(Self.instance(3, services: [], link: true))
        _ = registry.register(Self.instance(1, services: [], link: true))
        #expect(registry.link?.instance == 1)
    }
}
