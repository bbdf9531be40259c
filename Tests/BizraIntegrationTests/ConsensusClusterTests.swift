import BizraBus
import BizraCrypto
import BizraKV
import BizraSim
import BizraWAL
import Foundation
import Testing

/// Real processes: three nodes started by `bizra up` (each with its core, its link and
/// `bizra-consensus`), talking Raft over the links. kill -9 of the leader and SIGSTOP/SIGCONT of
/// a follower while a client keeps writing; every acknowledged write must survive.
@Suite(
    .serialized, .timeLimit(.minutes(4)),
    .enabled(
        if: FileManager.default.isExecutableFile(atPath: LocalCluster.binDir + "/bizra-compression"),
        "needs the link component (bizra-compression) for traffic between nodes"))
struct ConsensusClusterTests {
    static let nodes = ["n1", "n2", "n3"]

    /// Three nodes, each with its link and one consensus member (no workers).
    static let threeNodeConfig = """
        cluster: bizra-consensus-cluster-test
        nodes:
          - id: n1
            address: 127.0.0.1
            portBase: 17100
            zone: z1
            voteWeight: 1
            components:
              compression: 1
              consensus: 1
          - id: n2
            address: 127.0.0.1
            portBase: 17200
            zone: z2
            voteWeight: 1
            components:
              compression: 1
              consensus: 1
          - id: n3
            address: 127.0.0.1
            portBase: 17300
            zone: z3
            voteWeight: 1
            components:
              compression: 1
              consensus: 1
        """

    static func startThreeNodes() throws -> LocalCluster {
        let cluster = try LocalCluster(nodes: nodes, configYAML: threeNodeConfig)
        for node in nodes { try cluster.waitForLeader(node: node, seconds: 30) }
        return cluster
    }

    @Test func killingTheLeaderElectsANewOneWithin10sAndLosesNoAcknowledgedWrite() async throws {
        let cluster = try Self.startThreeNodes()
        defer { cluster.teardown() }
        let leader = try cluster.consensusLeader(asking: "n1")
        let survivor = try #require(Self.nodes.first { $0 != leader })
        let bus = try cluster.client(node: survivor)
        defer { bus.close() }
        var acknowledged: [String: String] = [:]
        for i in 0..<30 {
            let reply = try await cluster.put(
                bus, node: survivor, key: "before\(i)", value: "v\(i)", sequence: UInt64(i + 1))
            #expect(reply.status == .ok, "\(reply)")
            if reply.status == .ok { acknowledged["before\(i)"] = "v\(i)" }
        }
        let victim = try #require(
            try cluster.status().children.first { $0.node == leader && $0.component == "consensus" })
        kill(victim.pid, SIGKILL)
        let killed = ContinuousClock.now
        var firstWriteAfterKill: Duration?
        var sequence: UInt64 = 100
        while ContinuousClock.now - killed < .seconds(15) {
            sequence += 1
            let key = "after\(sequence)"
            let reply = try await cluster.put(bus, node: survivor, key: key, value: "w", sequence: sequence)
            if reply.status == .ok {
                acknowledged[key] = "w"
                if firstWriteAfterKill == nil { firstWriteAfterKill = ContinuousClock.now - killed }
                if acknowledged.count >= 50 { break }
            } else {
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let failover = try #require(
            firstWriteAfterKill, "no write succeeded within 15 s of the kill:\n\(cluster.logs())")
        #expect(failover < .seconds(10), "a new leader took \(failover) to serve a write")
        let newLeader = try cluster.consensusLeader(asking: survivor)
        #expect(newLeader != leader)
        for (key, value) in acknowledged.sorted(by: { $0.key < $1.key }) {
            let reply = try await cluster.get(bus, node: survivor, key: key)
            #expect(reply.value == value, "acknowledged write \(key) lost: \(reply)")
        }
        print("consensus failover: first write \(failover) after kill -9 of leader \(leader); new leader \(newLeader)")
    }

    @Test func restartingEveryNodeKeepsEveryAcknowledgedWrite() async throws {
        let cluster = try Self.startThreeNodes()
        defer { cluster.teardown() }
        do {
            let bus = try cluster.client(node: "n2")
            defer { bus.close() }
            for i in 0..<40 {
                let reply = try await cluster.put(
                    bus, node: "n2", key: "durable\(i)", value: "v\(i)", sequence: UInt64(i + 1))
                #expect(reply.status == .ok, "\(reply)")
            }
        }
        try cluster.down()
        try cluster.up()
        for node in Self.nodes { try cluster.waitForLeader(node: node, seconds: 30) }
        let bus = try cluster.client(node: "n3")
        defer { bus.close() }
        for i in 0..<40 {
            let reply = try await cluster.get(bus, node: "n3", key: "durable\(i)")
            #expect(reply.value == "v\(i)", "durable\(i) after restarting every node: \(reply)")
        }
        // A backup of n3's member taken through n1's core: the file comes over the bus and the
        // links in chunks (n1's own snap directory has no snapshot at n3's index, and is not read).
        let backup = cluster.directory.root + "/n3-backup.snap"
        let saved = try cluster.cli(["consensus", "snapshot", "save", backup, "--node", "n1", "--member", "n3"])
        #expect(saved.status == 0 && saved.output.contains("snapshot of n3"), "\(saved.output)")
        let snapshot = try SnapshotStore(directory: cluster.directory.root + "/check").load(backup)
        let store = try KV.Store(snapshot: snapshot.data)
        #expect(store.get(Array("durable39".utf8))?.value == Array("v39".utf8), "the backup holds the writes")
    }

    @Test func aFollowerFarBehindCatchesUpFromASnapshot() async throws {
        let cluster = try LocalCluster(
            nodes: Self.nodes,
            environment: ["BIZRA_CONSENSUS_SNAPSHOT_ENTRIES": "40", "BIZRA_CONSENSUS_RETAINED_ENTRIES": "2"],
            configYAML: Self.threeNodeConfig)
        defer { cluster.teardown() }
        for node in Self.nodes { try cluster.waitForLeader(node: node, seconds: 30) }
        let leader = try cluster.consensusLeader(asking: "n1")
        let follower = try #require(Self.nodes.first { $0 != leader })
        // Stopped (not paused: a paused process would find the appends queued for it on resume).
        let stopped = try cluster.cli(["scale", "consensus=0", "--node", follower])
        #expect(stopped.status == 0, "\(stopped.output)")
        #expect(
            try cluster.eventually(10) {
                try !cluster.status().children.contains {
                    $0.node == follower && $0.component == "consensus" && $0.pid > 0
                }
            })
        do {
            let bus = try cluster.client(node: leader)
            defer { bus.close() }
            for i in 0..<120 {
                let reply = try await cluster.put(
                    bus, node: leader, key: "s\(i)", value: "v\(i)", sequence: UInt64(i + 1))
                #expect(reply.status == .ok, "\(reply)")
            }
        }
        #expect(try cluster.cli(["scale", "consensus=1", "--node", follower]).status == 0)
        let leaderCommit = try cluster.consensusStatus(node: leader)["commit"] as? Int ?? Int.max
        let caughtUp = cluster.eventually(30) {
            ((try? cluster.consensusStatus(node: follower))?["applied"] as? Int ?? 0) >= leaderCommit
        }
        #expect(caughtUp, "follower \(follower) did not catch up:\n\(cluster.logs())")
        #expect(
            cluster.consensusLog(node: follower).contains("installed a snapshot"),
            "the follower should have caught up from a snapshot:\n\(cluster.consensusLog(node: follower))")
        let leaderRoot = try cluster.consensusStatus(node: leader)["merkleRoot"] as? String
        let followerStatus = try cluster.consensusStatus(node: follower)
        if followerStatus["merkleSize"] as? Int == leaderCommit {
            #expect(
                followerStatus["merkleRoot"] as? String == leaderRoot, "the Merkle root survives a snapshot install")
        }
    }

    @Test func aPausedFollowerCatchesUpAfterSIGCONT() async throws {
        let cluster = try Self.startThreeNodes()
        defer { cluster.teardown() }
        let leader = try cluster.consensusLeader(asking: "n1")
        let follower = try #require(Self.nodes.first { $0 != leader })
        let bus = try cluster.client(node: leader)
        defer { bus.close() }
        let paused = try #require(
            try cluster.status().children.first { $0.node == follower && $0.component == "consensus" })
        kill(paused.pid, SIGSTOP)
        var written = 0
        for i in 0..<100 {
            let reply = try await cluster.put(
                bus, node: leader, key: "paused\(i)", value: "v\(i)", sequence: UInt64(i + 1))
            if reply.status == .ok { written += 1 }
        }
        kill(paused.pid, SIGCONT)
        #expect(written == 100, "writes with one follower paused must succeed (a quorum remains)")
        let leaderStatus = try cluster.consensusStatus(node: leader)
        let caughtUp = try cluster.eventually(20) {
            let status = try cluster.consensusStatus(node: follower)
            return (status["applied"] as? Int ?? 0) >= (leaderStatus["commit"] as? Int ?? Int.max)
        }
        #expect(caughtUp, "follower \(follower) did not catch up:\n\(cluster.logs())")
        let followerBus = try cluster.client(node: follower)
        defer { followerBus.close() }
        let reply = try await cluster.get(followerBus, node: follower, key: "paused99")
        #expect(reply.value == "v99")
    }
}

extension ConsensusClusterTests {
    @Test func aConcurrentWorkloadWithKillsAndPausesIsLinearizable() async throws {
        let cluster = try Self.startThreeNodes()
        defer { cluster.teardown() }
        var buses: [String: BusClient] = [:]
        for node in Self.nodes { buses[node] = try cluster.client(node: node) }
        defer { for bus in buses.values { bus.close() } }
        let connections = buses
        let recorder = HistoryRecorder()
        let started = ContinuousClock.now
        let runFor = Duration.seconds(9)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for lane in 0..<4 {
                group.addTask {
                    try await Self.client(
                        lane: lane, cluster: cluster, buses: connections, recorder: recorder, until: started + runFor)
                }
            }
            group.addTask { try await Self.injectFaults(cluster, started: started) }
            try await group.waitForAll()
        }
        let history = await recorder.history
        let operations = history.events.filter { $0.type != .invoke }
        let writesOK = operations.filter { $0.f == "write" && $0.type == .ok }.count
        let readsOK = operations.filter { $0.f == "read" && $0.type == .ok }.count
        #expect(writesOK >= 20 && readsOK >= 20, "too little work to check: \(writesOK) writes, \(readsOK) reads")
        let verdict = LinearizabilityChecker(model: RegisterModel()).check(history)
        #expect(verdict.isValid, "\(verdict)\n\(history.events.map { "\($0)" }.joined(separator: "\n"))")
        print(
            "consensus linearizability: \(operations.count) operations (\(writesOK) writes ok, \(readsOK) reads ok, \(operations.filter { $0.type == .info }.count) indeterminate): \(verdict)"
        )
    }

    /// One client: random reads and writes of one key through random nodes. An indeterminate
    /// write retires the process (Jepsen's rule): the client continues as a new process.
    static func client(
        lane: Int, cluster: LocalCluster, buses: [String: BusClient], recorder: HistoryRecorder,
        until deadline: ContinuousClock.Instant
    ) async throws {
        var process = lane
        var sequence: UInt64 = 0
        var clientID = UInt64(1_000 + lane)
        var value = Int64(lane) * 1_000_000
        while ContinuousClock.now < deadline {
            let node = nodes[Int.random(in: 0..<nodes.count)]
            let bus = buses[node]!
            if Bool.random() {
                value += 1
                sequence += 1
                await recorder.record(.init(process: process, type: .invoke, f: "write", value: .int(value)))
                var request = KV.Request(op: "put")
                request.key = "register"
                request.value = "\(value)"
                request.client = clientID
                request.sequence = sequence
                let reply = try await cluster.kv(bus, node: node, request)
                let type: History.EventType =
                    reply.status == .ok ? .ok : reply.status == .failed && reply.definite ? .fail : .info
                await recorder.record(.init(process: process, type: type, f: "write", value: .int(value)))
                if type == .info {
                    process += 100
                    clientID += 100
                    sequence = 0
                }
            } else {
                await recorder.record(.init(process: process, type: .invoke, f: "read"))
                let reply = try await cluster.get(bus, node: node, key: "register")
                switch reply.status {
                case .ok:
                    await recorder.record(
                        .init(process: process, type: .ok, f: "read", value: .int(Int64(reply.value ?? "") ?? 0)))
                case .notFound:
                    await recorder.record(.init(process: process, type: .ok, f: "read", value: .none))
                default:
                    await recorder.record(.init(process: process, type: .fail, f: "read"))
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 5...30)))
        }
    }

    /// kill -9 of the leader after 2 s; SIGSTOP of a follower at 4.5 s, SIGCONT at 6 s.
    static func injectFaults(_ cluster: LocalCluster, started: ContinuousClock.Instant) async throws {
        try await Task.sleep(until: started + .seconds(2), clock: .continuous)
        let leader = try cluster.consensusLeader(asking: "n1")
        if let victim = try cluster.status().children.first(where: { $0.node == leader && $0.component == "consensus" })
        {
            kill(victim.pid, SIGKILL)
        }
        try await Task.sleep(until: started + .seconds(4.5), clock: .continuous)
        let current = (try? cluster.consensusLeader(asking: nodes.first { $0 != leader }!)) ?? leader
        let follower = nodes.first { $0 != current && $0 != leader } ?? nodes.first { $0 != current }!
        guard
            let paused = try cluster.status().children.first(where: {
                $0.node == follower && $0.component == "consensus"
            })
        else { return }
        kill(paused.pid, SIGSTOP)
        try await Task.sleep(until: started + .seconds(6), clock: .continuous)
        kill(paused.pid, SIGCONT)
    }
}

/// Its properties are all constants; the workload's tasks share it.
extension LocalCluster: @unchecked Sendable {}

/// The client-observed history of a real-process test, in real-time order.
actor HistoryRecorder {
    private(set) var history = History()

    func record(_ event: History.Event) { history.append(event) }
}

extension LocalCluster {
    /// The leader `node`'s consensus member reports.
    func consensusLeader(asking node: String) throws -> String {
        let status = try consensusStatus(node: node)
        guard let leader = status["leader"] as? String else { throw ClusterError("\(node) knows no leader") }
        return leader
    }

    func consensusStatus(node: String) throws -> [String: Any] {
        let result = try cli(["consensus", "status", "--json", "--node", node])
        guard result.status == 0,
            let object = try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any]
        else { throw ClusterError("consensus status of \(node) failed: \(result.output)") }
        return object
    }

    func put(_ bus: BusClient, node: String, key: String, value: String, sequence: UInt64) async throws -> KV.Reply {
        var request = KV.Request(op: "put")
        request.key = key
        request.value = value
        request.client = 4242
        request.sequence = sequence
        return try await kv(bus, node: node, request)
    }

    func get(_ bus: BusClient, node: String, key: String) async throws -> KV.Reply {
        var request = KV.Request(op: "get")
        request.key = key
        return try await kv(bus, node: node, request)
    }

    /// One request to `node`'s consensus service; a bus failure is reported as `unknown`.
    func kv(_ bus: BusClient, node: String, _ request: KV.Request) async throws -> KV.Reply {
        let payload = Array(try JSONEncoder().encode(request))
        do {
            let reply = try await bus.request(
                .service(node: node, name: "consensus"), type: KV.RequestType.kv, payload: payload,
                timeoutMillis: 6_000, retries: 1)
            return try JSONDecoder().decode(KV.Reply.self, from: Data(reply.payload))
        } catch let error as BusError {
            return .unknown("\(error)")
        }
    }
}
