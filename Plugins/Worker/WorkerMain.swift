import BizraBus
import Foundation
import Metrics

/// `bizra-worker`: a small real service that simulates agent work. It serves `worker.work`
/// requests (service `worker`) taking `serviceTimeMillis` and failing with probability
/// `errorRate` (both from bus-config `worker:`), reports in-flight count and latency, and counts
/// what it receives on `worker.` topics (`worker.stats` answers with the counts). It is the
/// workload of request/reply tests now and of balancing benchmarks later.
@main
struct WorkerMain {
    static func main() async {
        await ComponentHost.main(component: "worker", services: ["worker"]) { context in
            let stats = WorkerStats()
            context.bus.serve("worker") { request in try await handle(request, context: context, stats: stats) }
            for await delivery in context.bus.subscribe("worker.") {
                await stats.received(topicType: delivery.type)
            }
        }
    }

    static let latency = Timer(label: "bizra_worker_request_duration_seconds")

    static func handle(_ request: Delivery, context: ComponentContext, stats: WorkerStats) async throws -> [UInt8] {
        switch request.type {
        case "worker.stats":
            return await stats.encoded(principal: context.principal)
        case "worker.work":
            let started = ContinuousClock.now
            let settings = context.config.worker
            if settings.serviceTimeMillis > 0 { try await Task.sleep(for: .milliseconds(settings.serviceTimeMillis)) }
            latency.recordInterval(since: started)
            if settings.errorRate > 0, Double.random(in: 0..<1) < settings.errorRate {
                throw BusFailure(.handlerFailed, "simulated failure (errorRate \(settings.errorRate))")
            }
            let reply =
                "{\"node\":\"\(context.node.id)\",\"instance\":\(context.principal.instance),\"bytes\":\(request.payload.count)}"
            return Array(reply.utf8)
        default:
            throw BusFailure(.rejected, "worker has no operation \(request.type)")
        }
    }
}

/// What a worker has received on topics, for pub/sub tests.
actor WorkerStats {
    private var topicMessages = 0

    func received(topicType: String) { topicMessages += 1 }

    func encoded(principal: Principal) -> [UInt8] {
        Array("{\"instance\":\(principal.instance),\"topicMessages\":\(topicMessages)}".utf8)
    }
}

extension Timer {
    func recordInterval(since start: ContinuousClock.Instant) {
        let elapsed = ContinuousClock.now - start
        recordNanoseconds(elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000)
    }
}
