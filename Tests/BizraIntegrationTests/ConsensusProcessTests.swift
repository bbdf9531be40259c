import BizraBus
import BizraCrypto
import BizraKV
import Foundation
import Testing

/// Real processes: a supervisor, a core and `bizra-consensus` on a one-node cluster, driven
/// through `bizra kv` and `bizra consensus`; restarts, kill -9 and WAL damage. Serialized: each
/// test brings up its own deployment on its own data directory and ports.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct ConsensusProcessTests {
    /// One node running only `consensus` (a one-voter Raft cluster: it elects itself).
    static let oneNodeConfig = """
        cluster: bizra-consensus-test
        nodes:
          - id: n1
            address: 127.0.0.1
            portBase: 17100
            zone: z1
            voteWeight: 1
            components:
              consensus: 1
        """

    static func startOneNode() throws -> LocalCluster {
        let cluster = try LocalCluster(configYAML: oneNodeConfig)
        try cluster.waitForLeader()
        return cluster
    }

    /// Timing comes from bus-config `consensus:`; an environment override that is not a number
    /// in range stops the member at start with the variable's name, instead of being ignored.
    @Test func timingComesFromBusConfigAndABadOverrideIsRefused() throws {
        let yaml = Self.oneNodeConfig + "\nconsensus:\n  electionTimeoutTicks: 30\n  heartbeatIntervalTicks: 3\n"
        let cluster = try LocalCluster(configYAML: yaml)
        defer { cluster.teardown() }
        try cluster.waitForLeader()
        let started = cluster.consensusLog()
        #expect(
            started.contains("electionTimeoutTicks=30") && started.contains("heartbeatIntervalTicks=3"), "\(started)")

        let refused = try LocalCluster(
            environment: ["BIZRA_CONSENSUS_ELECTION_TICKS": "fast"], configYAML: Self.oneNodeConfig)
        defer { refused.teardown() }
        let named = refused.eventually(20) {
            refused.consensusLog().contains("environment variable BIZRA_CONSENSUS_ELECTION_TICKS=fast")
        }
        #expect(named, "\(refused.logs())")
    }

    @Test func putGetCasDeleteThroughTheCLI() throws {
        let cluster = try Self.startOneNode()
        defer { cluster.teardown() }
        let put = try cluster.cli(["kv", "put", "k1", "hello world"])
        #expect(put.status == 0, "\(put.output)")
        let get = try cluster.cli(["kv", "get", "k1"])
        #expect(get.status == 0)
        #expect(get.output == "hello world\n", "get prints the bare value")
        let json = try cluster.cli(["kv", "get", "k1", "--json"])
        let reply = try JSONSerialization.jsonObject(with: Data(json.output.utf8)) as? [String: Any]
        let revision = try #require(reply?["modRevision"] as? Int)
        #expect(reply?["status"] as? String == "ok")
        #expect(try cluster.cli(["kv", "get", "absent"]).status == 1, "not found exits 1")
        let mismatch = try cluster.cli(["kv", "cas", "k1", "v2", "--expected", "\(revision + 100)"])
        #expect(mismatch.status == 2, "cas mismatch exits 2: \(mismatch.output)")
        #expect(try cluster.cli(["kv", "cas", "k1", "v2", "--expected", "\(revision)"]).status == 0)
        #expect(try cluster.cli(["kv", "get", "k1"]).output == "v2\n")
        #expect(try cluster.cli(["kv", "cas", "new", "x", "--expected", "0"]).status == 0, "cas 0 creates")
        let list = try cluster.cli(["kv", "list", "k"])
        #expect(list.output == "k1=v2\n", "\(list.output)")
        #expect(try cluster.cli(["kv", "delete", "k1"]).status == 0)
        #expect(try cluster.cli(["kv", "delete", "k1"]).status == 1, "deleting an absent key is not found")
        #expect(try cluster.cli(["kv", "get", "k1"]).status == 1)
        let status = try cluster.cli(["consensus", "status", "--json"])
        #expect(status.output.contains("\"leader\" : \"n1\""), "\(status.output)")
    }

    @Test func aRetriedWriteAppliesExactlyOnce() throws {
        let cluster = try Self.startOneNode()
        defer { cluster.teardown() }
        let first = try cluster.cli(["kv", "put", "x", "1", "--client-id", "77", "--sequence", "5", "--json"])
        #expect(try cluster.cli(["kv", "put", "x", "2"]).status == 0)
        // The same (client, sequence) again: answered with the first result, nothing applied.
        let retry = try cluster.cli(["kv", "put", "x", "1", "--client-id", "77", "--sequence", "5", "--json"])
        #expect(first.output == retry.output, "\(first.output) vs \(retry.output)")
        #expect(try cluster.cli(["kv", "get", "x"]).output == "2\n")
    }

    @Test func aRaftMessageWithAForgedFromIsDroppedAndCounted() async throws {
        let cluster = try Self.startOneNode()
        defer { cluster.teardown() }
        let bus = try cluster.client()
        defer { bus.close() }
        // A "timeout now" claiming to come from member 1 (n1's consensus), in term 99, sent by a
        // client identity: encoded by hand as docs/PROTOCOL.md §9 specifies.
        var forged: [UInt8] = [1, 9]
        for field: UInt64 in [1, 1, 99] {
            forged += (0..<8).reversed().map { UInt8(truncatingIfNeeded: field >> ($0 * 8)) }
        }
        for _ in 0..<3 {
            try bus.send(to: .service(node: "n1", name: "consensus"), type: "raft.message", payload: forged)
        }
        let counted = try cluster.eventually(10) {
            try cluster.cli(["consensus", "status", "--json"]).output.contains("\"forgedDropped\" : 3")
        }
        let status = try cluster.cli(["consensus", "status", "--json"]).output
        #expect(counted, "\(status)")
        #expect(!status.contains("\"term\" : 99"), "a forged message changed the term: \(status)")
        #expect(try cluster.cli(["kv", "put", "still", "serving"]).status == 0)
    }

    @Test func aProofOfAKeyVerifiesOfflineAgainstThePublishedRoot() throws {
        let cluster = try Self.startOneNode()
        defer { cluster.teardown() }
        for (key, value) in [("a", "1"), ("b", "2"), ("a", "3"), ("c", "4")] {
            #expect(try cluster.cli(["kv", "put", key, value]).status == 0)
        }
        let file = cluster.directory.root + "/a.proof"
        let proof = try cluster.cli(["kv", "proof", "a", "--output", file])
        #expect(proof.status == 0, "\(proof.output)")
        let status = try cluster.cli(["consensus", "status", "--json"]).output
        let root = try #require(
            (try JSONSerialization.jsonObject(with: Data(status.utf8)) as? [String: Any])?["merkleRoot"] as? String)
        let verified = try LocalCluster.run(["verify-proof", file, "--root", root])
        #expect(verified.status == 0 && verified.output.contains("valid"), "\(verified.output)")
        let text = try String(contentsOfFile: file, encoding: .utf8)
        try text.replacingOccurrences(of: "\"value\" : \"3\"", with: "\"value\" : \"9\"").write(
            toFile: file, atomically: true, encoding: .utf8)
        let forged = try LocalCluster.run(["verify-proof", file, "--root", root])
        #expect(forged.status == 3, "a tampered proof must not verify: \(forged.output)")
    }

    @Test func snapshotSaveAndRestoreRebuildTheStore() throws {
        let cluster = try Self.startOneNode()
        defer { cluster.teardown() }
        for i in 0..<5 { #expect(try cluster.cli(["kv", "put", "key\(i)", "value\(i)"]).status == 0) }
        let backup = cluster.directory.root + "/backup.snap"
        let saved = try cluster.cli(["consensus", "snapshot", "save", backup])
        #expect(saved.status == 0, "\(saved.output)")
        #expect(try cluster.cli(["kv", "put", "after", "backup"]).status == 0)
        try cluster.down()
        let restored = try cluster.cli(["consensus", "snapshot", "restore", backup])
        #expect(restored.status == 0, "\(restored.output)")
        try cluster.up()
        try cluster.waitForLeader()
        for i in 0..<5 { #expect(try cluster.cli(["kv", "get", "key\(i)"]).output == "value\(i)\n") }
        #expect(try cluster.cli(["kv", "get", "after"]).status == 1, "a write after the backup is not in it")
        #expect(try cluster.cli(["kv", "put", "new", "write"]).status == 0)
    }

    @Test func compactionKeepsEveryWriteAcrossAKill() async throws {
        let cluster = try LocalCluster(
            environment: ["BIZRA_CONSENSUS_SNAPSHOT_ENTRIES": "20", "BIZRA_CONSENSUS_RETAINED_ENTRIES": "2"],
            configYAML: Self.oneNodeConfig)
        defer { cluster.teardown() }
        try cluster.waitForLeader()
        do {
            let bus = try cluster.client()
            defer { bus.close() }
            for i in 0..<70 {
                let reply = try await cluster.put(
                    bus, node: "n1", key: "c\(i)", value: "v\(i)", sequence: UInt64(i + 1))
                #expect(reply.status == .ok, "\(reply)")
            }
        }
        let snapshots = try FileManager.default.contentsOfDirectory(
            atPath: cluster.directory.dataDir(node: "n1", component: "consensus") + "/snap")
        #expect(snapshots.contains { $0.hasSuffix(".snap") && $0 != "00000000000000000000.snap" }, "\(snapshots)")
        #expect(cluster.consensusLog().contains("snapshot saved and WAL compacted"))
        let victim = try #require(try cluster.status().children.first { $0.component == "consensus" })
        kill(victim.pid, SIGKILL)
        #expect(
            try cluster.eventually(20) {
                try cluster.status().children.contains {
                    $0.component == "consensus" && $0.pid != victim.pid && $0.pid > 0
                }
            })
        try cluster.waitForLeader()
        let status = try cluster.consensusStatus(node: "n1")
        #expect((status["firstIndex"] as? Int ?? 0) > 20, "the log starts after the snapshot: \(status)")
        let bus = try cluster.client()
        defer { bus.close() }
        for i in 0..<70 {
            let reply = try await cluster.get(bus, node: "n1", key: "c\(i)")
            #expect(reply.value == "v\(i)", "c\(i) after compaction and kill -9: \(reply)")
        }
        #expect(try cluster.cli(["kv", "proof", "c69"]).status == 0, "a key written after the snapshot has a proof")
        // A key written long before the snapshot: its entry comes from the proof archive, and
        // the proof verifies offline against the member's current root.
        let file = cluster.directory.root + "/c0.proof"
        let proof = try cluster.cli(["kv", "proof", "c0", "--output", file])
        #expect(proof.status == 0, "a key written before the snapshot has a proof: \(proof.output)")
        let root = try #require(try cluster.consensusStatus(node: "n1")["merkleRoot"] as? String)
        let verified = try LocalCluster.run(["verify-proof", file, "--root", root])
        #expect(verified.status == 0 && verified.output.contains("valid"), "\(verified.output)")
        // Watch replay: the restarted member holds the changes after its snapshot, not before.
        let compacted = try cluster.cli(["kv", "watch", "c", "--from-revision", "1", "--count", "1"])
        #expect(compacted.status == 3, "\(compacted)")
        #expect(compacted.output.contains("is compacted on this member"), "\(compacted.output)")
        let replayed = try cluster.cli(["kv", "watch", "c6", "--from-revision", "70", "--count", "1", "--json"])
        #expect(replayed.status == 0, "\(replayed)")
        let line = replayed.output.split(separator: "\n").first.map(String.init) ?? ""
        let event = try JSONDecoder().decode(KV.WatchEvent.self, from: Data(line.utf8))
        #expect(event.key == "c69" && event.value == "v69" && event.revision == 70, "\(event)")
    }

    @Test func watchEventsArePublishedAsWritesApply() async throws {
        let cluster = try Self.startOneNode()
        defer { cluster.teardown() }
        let bus = try cluster.client()
        defer { bus.close() }
        let events = bus.subscribe("raft.watch.w/")
        try await Task.sleep(for: .milliseconds(300))  // a new subscription needs a moment
        #expect(try cluster.cli(["kv", "put", "w/a", "1"]).status == 0)
        #expect(try cluster.cli(["kv", "put", "other", "x"]).status == 0)
        #expect(try cluster.cli(["kv", "delete", "w/a"]).status == 0)
        var seen: [KV.WatchEvent] = []
        let collector = Task {
            var collected: [KV.WatchEvent] = []
            for await delivery in events {
                if let event = try? JSONDecoder().decode(KV.WatchEvent.self, from: Data(delivery.payload)) {
                    collected.append(event)
                }
                if collected.count == 2 { break }
            }
            return collected
        }
        let timeout = Task {
            try await Task.sleep(for: .seconds(10))
            collector.cancel()
        }
        seen = await collector.value
        timeout.cancel()
        #expect(seen.map(\.type) == ["put", "delete"], "\(seen)")
        #expect(seen.map(\.key) == ["w/a", "w/a"])
        #expect(seen.first?.value == "1")
        // The same changes replayed from revision 1, without "other", in order, each once.
        let replay = try cluster.cli(["kv", "watch", "w/", "--from-revision", "1", "--count", "2", "--json"])
        #expect(replay.status == 0, "\(replay)")
        let replayed = try replay.output.split(separator: "\n").map {
            try JSONDecoder().decode(KV.WatchEvent.self, from: Data($0.utf8))
        }
        #expect(replayed.map(\.type) == ["put", "delete"], "\(replay.output)")
        #expect(replayed.map(\.revision) == seen.map(\.revision), "\(replayed) vs \(seen)")
    }

    @Test func aLeaseExpiresAndTakesItsKeysButKeepaliveHoldsIt() throws {
        let cluster = try Self.startOneNode()
        defer { cluster.teardown() }
        // TTLs long enough that a slow CLI (a loaded CI runs every suite at once) cannot outrun them.
        let kept = try cluster.cli(["kv", "lease", "grant", "6000"])
        let keptID = try #require(UInt64(kept.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(try cluster.cli(["kv", "put", "lock/kept", "holder", "--lease", "\(keptID)"]).status == 0)
        let short = try cluster.cli(["kv", "lease", "grant", "2000"])
        let shortID = try #require(UInt64(short.output.trimmingCharacters(in: .whitespacesAndNewlines)))
        #expect(shortID > keptID, "lease ids are revisions: they increase (fencing tokens)")
        #expect(try cluster.cli(["kv", "put", "lock/short", "holder", "--lease", "\(shortID)"]).status == 0)
        let started = Date()
        var shortGone = false
        while Date().timeIntervalSince(started) < 25 {
            #expect(try cluster.cli(["kv", "lease", "keepalive", "\(keptID)"]).status == 0)
            if try cluster.cli(["kv", "get", "lock/short"]).status == 1 {
                shortGone = true
                if Date().timeIntervalSince(started) > 7 { break }  // and the kept one outlived its TTL
            }
            usleep(200_000)
        }
        #expect(shortGone, "the expired lease's key is gone")
        #expect(try cluster.cli(["kv", "get", "lock/kept"]).output == "holder\n", "keepalive held the lease")
        #expect(try cluster.cli(["kv", "lease", "revoke", "\(keptID)"]).status == 0)
        #expect(try cluster.cli(["kv", "get", "lock/kept"]).status == 1, "revoking deletes the lease's keys")
    }

    @Test func killMinus9KeepsEveryAcknowledgedWrite() throws {
        let cluster = try Self.startOneNode()
        defer { cluster.teardown() }
        for i in 0..<20 { #expect(try cluster.cli(["kv", "put", "key\(i)", "value\(i)"]).status == 0) }
        let victim = try #require(try cluster.status().children.first { $0.component == "consensus" })
        kill(victim.pid, SIGKILL)
        #expect(
            try cluster.eventually(20) {
                try cluster.status().children.contains {
                    $0.component == "consensus" && $0.pid != victim.pid && $0.pid > 0
                }
            }, "the supervisor did not restart consensus:\n\(cluster.logs())")
        try cluster.waitForLeader()
        for i in 0..<20 { #expect(try cluster.cli(["kv", "get", "key\(i)"]).output == "value\(i)\n") }
    }

    @Test func restartAfterDownKeepsDataAndRepairsATornWALTail() throws {
        let cluster = try Self.startOneNode()
        defer { cluster.teardown() }
        for i in 0..<10 { #expect(try cluster.cli(["kv", "put", "key\(i)", "value\(i)"]).status == 0) }
        try cluster.down()
        // A torn write: a record header promising 100 bytes, followed by only 10 of them.
        let wal = try cluster.lastWALSegment()
        let handle = try #require(FileHandle(forWritingAtPath: wal))
        handle.seekToEndOfFile()
        handle.write(Data([0, 0, 0, 100, 1, 2, 3, 4] + [UInt8](repeating: 0xAB, count: 10)))
        try handle.close()
        try cluster.up()
        try cluster.waitForLeader()
        for i in 0..<10 { #expect(try cluster.cli(["kv", "get", "key\(i)"]).output == "value\(i)\n") }
        let log = cluster.consensusLog()
        #expect(log.contains("repaired a torn WAL tail"), "\(log)")
        #expect(try cluster.cli(["kv", "put", "after", "repair"]).status == 0)
    }

    @Test func aCorruptedRecordInTheMiddleIsRefusedWithAClearError() throws {
        let cluster = try Self.startOneNode()
        defer { cluster.teardown() }
        for i in 0..<10 { #expect(try cluster.cli(["kv", "put", "key\(i)", "marker-\(i)-value"]).status == 0) }
        try cluster.down()
        let wal = try cluster.lastWALSegment()
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: wal)))
        let marker = Array("marker-3-value".utf8)
        let offset = try #require(
            (0...(bytes.count - marker.count)).first { Array(bytes[$0..<($0 + marker.count)]) == marker })
        bytes[offset + 2] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: wal))
        try cluster.up()
        #expect(
            cluster.eventually(15) { cluster.consensusLog().contains("refusing to serve") },
            "consensus did not refuse the damaged WAL:\n\(cluster.logs())")
        let log = cluster.consensusLog()
        #expect(log.contains(wal) && log.contains("at offset"), "the error names the file and offset: \(log)")
        let get = try cluster.cli(["kv", "get", "key0"])
        #expect(get.status != 0, "a node with a damaged WAL must not serve: \(get.output)")
    }
}

extension LocalCluster {
    /// Waits until `node`'s consensus reports a leader.
    func waitForLeader(node: String = "n1", seconds: Double = 20) throws {
        let elected = try eventually(seconds) {
            let status = try cli(["consensus", "status", "--json", "--node", node])
            return status.status == 0 && status.output.contains("\"leader\" :")
        }
        guard elected else { throw ClusterError("no consensus leader within \(seconds) s:\n\(logs())") }
    }

    func lastWALSegment(node: String = "n1") throws -> String {
        let dir = directory.dataDir(node: node, component: "consensus") + "/wal"
        let names = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".wal") }.sorted()
        guard let last = names.last else { throw ClusterError("no WAL segment in \(dir)") }
        return dir + "/" + last
    }

    func consensusLog(node: String = "n1") -> String {
        (try? String(
            contentsOfFile: directory.logPath(node: node, component: "consensus", instance: 0), encoding: .utf8))
            ?? ""
    }
}
