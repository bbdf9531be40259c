import ArgumentParser
import BizraBus
import BizraKV
import BizraRaft
import BizraWAL
import Foundation

/// `bizra consensus snapshot save|restore`: backup and disaster recovery of the replicated store.
struct ConsensusSnapshot: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Back up the store (save) or rebuild members from a backup (restore).",
        subcommands: [Save.self, Restore.self])

    struct Save: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make --node take a snapshot now and copy it to FILE (run on that node's host).")
        @OptionGroup var client: ClientOptions
        @Argument var file: String

        func run() async throws {
            try await CLIError.reporting {
                let reply = try await ConsensusCall.send(
                    client, type: KV.RequestType.snapshot, request: KV.Request(op: "snapshot"), isWrite: false,
                    timeoutMillis: 30_000, as: KV.Reply.self)
                guard reply.status == .ok, let index = reply.index else {
                    KVOptions.report(reply, json: false) { _ in nil }
                    return
                }
                let store = try SnapshotStore(
                    directory: client.deployment.directory.dataDir(node: client.node, component: "consensus")
                        + "/snap")
                let source = store.path(for: index)
                let deadline = ContinuousClock.now.advanced(by: .seconds(30))
                while !FileManager.default.fileExists(atPath: source) {
                    guard ContinuousClock.now < deadline else {
                        throw CLIError("the snapshot at index \(index) did not appear in \(source)", exitCode: 3)
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
                let snapshot = try store.load(source)
                try? FileManager.default.removeItem(atPath: file)
                try FileManager.default.copyItem(atPath: source, toPath: file)
                print(
                    "snapshot of \(client.node) at index \(index) (term \(snapshot.metadata.term), kv revision \(reply.revision ?? 0), \(snapshot.data.count) bytes) saved to \(file)"
                )
            }
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild the consensus data of the selected nodes from a saved snapshot (deployment stopped).",
            discussion:
                "Every member must be restored from the same FILE. Existing data is moved aside to data/<node>/consensus.before-restore-<time>. Then `bizra up`."
        )
        @OptionGroup var deployment: DeploymentOptions
        @Argument var file: String
        @Option(name: .customLong("node"), help: "A node to restore (repeatable; default: every node in the config).")
        var nodes: [String] = []

        func run() async throws {
            try await CLIError.reporting {
                let config = try deployment.loadConfig()
                let directory = deployment.directory
                if (try? callSupervisor(directory, ControlRequest(op: "status"), timeoutMillis: 500)) != nil {
                    throw CLIError("a supervisor runs in \(directory.root): `bizra down` first", exitCode: 3)
                }
                let snapshot: Raft.Snapshot
                do {
                    snapshot = try SnapshotStore(directory: NSTemporaryDirectory() + "bizra-restore-check").load(file)
                } catch {
                    throw CLIError("\(file) is not a usable snapshot: \(error)", exitCode: 3)
                }
                let targets = nodes.isEmpty ? config.nodes.map(\.id) : nodes
                let stamp = Int(Date().timeIntervalSince1970)
                for node in targets {
                    guard config.node(node) != nil else { throw CLIError("no node \(node) in the config", exitCode: 3) }
                    let data = directory.dataDir(node: node, component: "consensus")
                    if FileManager.default.fileExists(atPath: data) {
                        try FileManager.default.moveItem(atPath: data, toPath: data + ".before-restore-\(stamp)")
                    }
                    try DataDirectory.makeDirectory(data)
                    try SnapshotStore(directory: data + "/snap").save(snapshot)
                    let opened = try RaftDiskStorage.open(
                        directory: data, bootstrap: snapshot.metadata.configuration)
                    let metadata = snapshot.metadata
                    try opened.storage.persist(
                        Raft.StorageWrite(
                            token: 1, hardState: Raft.HardState(term: metadata.term, vote: nil, commit: metadata.index),
                            snapshot: nil, entries: []))
                    try opened.storage.sync()
                    print("\(node): restored to index \(metadata.index), term \(metadata.term) (\(data))")
                }
            }
        }
    }
}
