import BizraBus
import BizraKV
import BizraRaft
import BizraWAL
import Foundation
import Logging

/// `bizra-consensus`: one per node. It replicates the key-value store of `BizraKV` through the
/// Raft core of `BizraRaft`, keeps its log and snapshots with `BizraWAL` under
/// `<data>/data/<node>/consensus`, talks Raft to the consensus instances of the other declared
/// nodes with directed bus messages, and serves the `consensus` service (docs/PROTOCOL.md).
///
/// Exit codes: those of `ComponentHost` (0, 2, 3), plus 4 when the data directory is damaged
/// (the node refuses to serve from it) and 5 when a disk write fails while running.
@main
struct ConsensusMain {
    static func main() async {
        await ComponentHost.main(component: "consensus", services: ["consensus"]) { context in
            let server = open(context)
            let json = JSONCoding()
            context.bus.serve("consensus") { request in
                try await handle(request, server: server, context: context, json: json)
            }
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await runTicks(server) }
                group.addTask {
                    for await delivery in context.bus.messages where delivery.type == KV.RequestType.raft {
                        do {
                            let message = try Raft.Message(decoding: delivery.payload)
                            await server.receive(message, sender: delivery.sender)
                        } catch {
                            await server.malformed(from: delivery.sender, error)
                        }
                    }
                }
                _ = try await group.next()
                group.cancelAll()
            }
        }
    }

    /// Opens the data directory and starts the member, or exits refusing to serve.
    static func open(_ context: ComponentContext) -> ConsensusServer {
        let log = context.log
        let members = Members(config: context.config)
        guard let me = members.id(of: context.node.id) else {
            log.critical("node \(context.node.id) is not declared in bus-config")
            exit(2)
        }
        let settings: ConsensusSettings
        do {
            settings = try ConsensusSettings(
                config: context.config.consensus, environment: ProcessInfo.processInfo.environment)
        } catch {
            log.critical("refusing to start: \(error)")
            exit(2)
        }
        let directory = context.dataDirectory.dataDir(node: context.node.id, component: "consensus")
        do {
            try DataDirectory.makeDirectory(directory)
            let opened = try RaftDiskStorage.open(directory: directory, bootstrap: members.bootstrap)
            if let tail = opened.repairedTail {
                log.warning(
                    "repaired a torn WAL tail: cut \(tail.file) at offset \(tail.offset), dropping \(tail.bytesDropped) bytes of an unfinished write"
                )
            }
            let node = try Raft.Node(settings: settings.raftSettings(id: me), recovered: opened.recovered)
            let kv = try KV.Store(snapshot: opened.recovered.snapshot.data)
            let storage = StorageThread(storage: opened.storage, log: log)
            let leafFile = try MerkleLeafFile(
                path: directory + "/merkle.leaves", snapshotIndex: opened.recovered.snapshot.metadata.index)
            let server = ConsensusServer(
                log: log, bus: context.bus, members: members, settings: settings, me: me, node: node, kv: kv,
                storage: storage, leafFile: leafFile,
                proofArchive: ProofArchive(
                    path: directory + "/proof.entries", snapshotIndex: opened.recovered.snapshot.metadata.index,
                    log: log))
            storage.start { token in Task { await server.persisted(token: token) } }
            log.info(
                "consensus member \(me) of \(members.names.count) started",
                metadata: [
                    "term": "\(opened.recovered.hardState.term)",
                    "snapshot": "\(opened.recovered.snapshot.metadata.index)",
                    "entries": "\(opened.recovered.entries.count)",
                    "electionTimeoutTicks": "\(settings.electionTimeoutTicks)",
                    "heartbeatIntervalTicks": "\(settings.heartbeatIntervalTicks)",
                ])
            return server
        } catch {
            log.critical("refusing to serve: the consensus data in \(directory) is unusable: \(error)")
            exit(ConsensusExit.refusedDamagedData)
        }
    }

    /// Ticks from the monotonic clock, every `tickMillis`. A late wake-up catches up on missed
    /// ticks, at most `catchUpTicksMax` at once.
    static func runTicks(_ server: ConsensusServer) async throws {
        let period = Duration.milliseconds(ConsensusSettings.tickMillis)
        var next = ContinuousClock.now
        while !Task.isCancelled {
            next = next.advanced(by: period)
            try await Task.sleep(until: next, clock: .continuous)
            let late = ContinuousClock.now - next
            var due = 1 + Int(late / period)
            if due > ConsensusSettings.catchUpTicksMax {
                due = ConsensusSettings.catchUpTicksMax
                next = ContinuousClock.now
            } else {
                next = next.advanced(by: period * (due - 1))
            }
            await server.tick(count: due)
        }
    }

    static func handle(_ request: Delivery, server: ConsensusServer, context: ComponentContext, json: JSONCoding)
        async throws -> [UInt8]
    {
        switch request.type {
        case KV.RequestType.status:
            return try json.encode(await server.status())
        case KV.RequestType.snapshot:
            return try json.encode(await server.snapshotNow())
        case KV.RequestType.snapshotRead:
            let decoded: KV.Request
            do { decoded = try json.decode(KV.Request.self, request.payload) } catch {
                return try json.encode(KV.Reply.failed("malformed request: \(error)"))
            }
            let directory = context.dataDirectory.dataDir(node: context.node.id, component: "consensus") + "/snap"
            return try json.encode(SnapshotFileReader.read(decoded, directory: directory))
        case KV.RequestType.proof:
            let decoded = try json.decode(KV.Request.self, request.payload)
            return try json.encode(await server.proof(decoded))
        case KV.RequestType.kv, KV.RequestType.admin:
            let decoded: KV.Request
            do { decoded = try json.decode(KV.Request.self, request.payload) } catch {
                return try json.encode(KV.Reply.failed("malformed request: \(error)"))
            }
            if request.type == KV.RequestType.admin { return try json.encode(await server.admin(decoded)) }
            switch await server.handle(decoded) {
            case .reply(let reply): return try json.encode(reply)
            case .forward(let leader):
                do {
                    let reply = try await context.bus.request(
                        .service(node: leader, name: "consensus"), type: request.type, payload: request.payload,
                        timeoutMillis: 2_000, retries: 1)
                    return reply.payload
                } catch {
                    return try json.encode(
                        KV.Reply.failed("the leader \(leader) did not answer: \(error)", leader: leader))
                }
            }
        default:
            throw BusFailure(.rejected, "consensus has no operation \(request.type)")
        }
    }
}

/// JSON for the client protocol (encoders are not Sendable; one per call is cheap enough here).
struct JSONCoding: Sendable {
    func encode(_ value: some Encodable) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array(try encoder.encode(value))
    }

    func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) throws -> T {
        try JSONDecoder().decode(type, from: Data(bytes))
    }
}
