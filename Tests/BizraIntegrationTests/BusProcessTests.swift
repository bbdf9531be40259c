import BizraBus
import BizraCrypto
import Foundation
import Testing

/// Real processes: a supervisor, a core and two `bizra-worker` instances on one node, driven
/// through the CLI and an in-process client. Serialized: each test brings up its own deployment.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct BusProcessTests {
    @Test func pubSubFanOutReachesEveryWorker() throws {
        let cluster = try LocalCluster()
        defer { cluster.teardown() }
        #expect(
            try cluster.eventually(10) { try cluster.healthyWorkers().count == 2 },
            "workers never became healthy:\n\(cluster.logs())")
        let published = try cluster.cli(["bus", "pub", "worker.fanout", "hello", "--count", "5", "--node", "n1"])
        #expect(published.status == 0, "\(published.output)")
        for instance in 0..<2 {
            let received = try cluster.eventually(5) {
                let stats = try cluster.cli(["bus", "call", "worker#\(instance)", "worker.stats", "--node", "n1"])
                return stats.output.contains("\"topicMessages\":5")
            }
            #expect(received, "worker \(instance) did not receive all 5 messages")
        }
    }

    @Test func requestsToAServiceWithTwoInstancesUseBoth() async throws {
        let cluster = try LocalCluster()
        defer { cluster.teardown() }
        #expect(try cluster.eventually(10) { try cluster.healthyWorkers().count == 2 })
        let bus = try cluster.client()
        defer { bus.close() }
        var served: [String: Int] = [:]
        for i in 0..<20 {
            let reply = try await bus.request(
                .service(node: "n1", name: "worker"), type: "worker.work", payload: Array("r\(i)".utf8))
            let text = String(decoding: reply.payload, as: UTF8.self)
            let instance = text.contains("\"instance\":0") ? "0" : text.contains("\"instance\":1") ? "1" : "?"
            served[instance, default: 0] += 1
            #expect(reply.sender.component == "worker")
        }
        #expect(served["0", default: 0] >= 5 && served["1", default: 0] >= 5, "dispatch was not fair: \(served)")
        #expect(served["?"] == nil)
    }

    @Test func killingAWorkerWhileCallsRunLosesNoCall() async throws {
        let cluster = try LocalCluster()
        defer { cluster.teardown() }
        #expect(try cluster.eventually(10) { try cluster.healthyWorkers().count == 2 })
        let victim = try #require(try cluster.healthyWorkers().first { $0.instance == 0 })
        let bus = try cluster.client()
        defer { bus.close() }
        let calls = 600
        let killedAt = Clocks.monotonicMicros() + 100_000
        let (failures, afterKill) = try await withThrowingTaskGroup(of: (Int, Int).self) { group in
            for lane in 0..<4 {
                group.addTask {
                    var failed = 0
                    var completedAfterKill = 0
                    for i in stride(from: lane, to: calls, by: 4) {
                        do {
                            _ = try await bus.request(
                                .service(node: "n1", name: "worker"), type: "worker.work", payload: Array("\(i)".utf8))
                            if Clocks.monotonicMicros() > killedAt + 50_000 { completedAfterKill += 1 }
                        } catch { failed += 1 }
                    }
                    return (failed, completedAfterKill)
                }
            }
            group.addTask {
                try await Task.sleep(for: .microseconds(max(0, killedAt - Clocks.monotonicMicros())))
                kill(victim.pid, SIGKILL)
                return (0, 0)
            }
            return try await group.reduce((0, 0)) { ($0.0 + $1.0, $0.1 + $1.1) }
        }
        #expect(failures == 0, "\(failures) of \(calls) calls failed after retries")
        #expect(afterKill > 0, "no call ran after the kill, so the test proved nothing")
        let restarted = try cluster.eventually(15) {
            try cluster.status().children.contains {
                $0.component == "worker" && $0.instance == 0 && $0.restarts >= 1 && $0.state == "running"
            }
        }
        #expect(restarted, "the supervisor did not restart worker 0:\n\(cluster.logs())")
        #expect(try cluster.eventually(10) { try cluster.healthyWorkers().count == 2 })
    }

    @Test func scalingWorkersToThreeWhileRunningServesFromTheNewInstance() async throws {
        let cluster = try LocalCluster()
        defer { cluster.teardown() }
        #expect(try cluster.eventually(10) { try cluster.healthyWorkers().count == 2 })
        let scaled = try cluster.cli(["scale", "worker=3", "--node", "n1"])
        #expect(scaled.status == 0, "\(scaled.output)")
        #expect(try cluster.eventually(10) { try cluster.healthyWorkers().count == 3 }, "\(cluster.logs())")
        let bus = try cluster.client()
        defer { bus.close() }
        var instances = Set<String>()
        for _ in 0..<12 {
            let reply = try await bus.request(.service(node: "n1", name: "worker"), type: "worker.work", payload: [])
            instances.insert(String(decoding: reply.payload, as: UTF8.self))
        }
        #expect(instances.contains { $0.contains("\"instance\":2") }, "instance 2 never served: \(instances)")
        let refused = try cluster.cli(["scale", "consensus=2"])
        #expect(refused.status != 0 && refused.output.contains("at most one instance per node"))
        let drained = try cluster.cli(["scale", "worker=1", "--node", "n1"])
        #expect(drained.status == 0)
        #expect(
            try cluster.eventually(10) { try cluster.status().children.filter { $0.component == "worker" }.count == 1 })
    }

    @Test func framesFromAnUnknownKeyAreRejectedAndCounted() async throws {
        let cluster = try LocalCluster()
        defer { cluster.teardown() }
        // A client whose key is not in any keyring the core reads: a different data directory.
        let stranger = BusClient(
            options: .init(
                principal: Principal(node: Principal.clientNode, component: "stranger", instance: 1),
                key: Ed25519.KeyPair.generate(), endpoints: cluster.directory.endpoints(node: "n1"),
                settings: .defaults, registers: false),
            logger: .init(label: "stranger"))
        try stranger.start()
        defer { stranger.close() }
        await #expect(throws: BusError.self) {
            _ = try await stranger.request(
                .service(node: "n1", name: "worker"), type: "worker.work", payload: [], timeoutMillis: 200, retries: 1)
        }
        // 15 s: `status` goes through the supervisor to the core's HTTP endpoint, which takes seconds
        // when the integration suites run in parallel on a loaded 2-core machine.
        let counted = try cluster.eventually(15) {
            let status = try cluster.status()
            return status.nodes.first { $0.id == "n1" }?.core?.rejected["unknown_key", default: 0] ?? 0 >= 2
        }
        #expect(counted, "unknown_key rejects were not counted")
    }

    @Test func aFrameForAnotherNodeWithoutALinkGetsNoRoute() async throws {
        let cluster = try LocalCluster(components: "worker")
        defer { cluster.teardown() }
        let call = try cluster.cli(["bus", "call", "worker", "worker.work", "x", "--node", "n1", "--target", "n2"])
        #expect(call.status != 0)
        #expect(call.output.contains("no route to n2"), "\(call.output)")
    }
}
