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
            abstract: "Make --node take a snapshot now and copy it to FILE over the bus (from any host).")
        @OptionGroup var client: ClientOptions
        @Argument var file: String
        @Option(help: "The member whose snapshot to save (default: --node), reached over the bus from --node's host.")
        var member: String?

        func run() async throws {
            try await CLIError.reporting {
                let reply = try await ConsensusCall.send(
                    client, type: KV.RequestType.snapshot, request: KV.Request(op: "snapshot"), isWrite: false,
                    timeoutMillis: 30_000, target: member, as: KV.Reply.self)
                guard reply.status == .ok, let index = reply.index else {
                    KVOptions.report(reply, json: false) { _ in nil }
                    return
                }
                let bytes = try await fetch(index: index)
                let temporary = file + ".partial-\(getpid())"
                let directory = URL(fileURLWithPath: file).deletingLastPathComponent().path
                defer { try? FileManager.default.removeItem(atPath: temporary) }
                do {
                    try Data(bytes).write(to: URL(fileURLWithPath: temporary))
                    let handle = try FileHandle(forUpdating: URL(fileURLWithPath: temporary))
                    try handle.synchronize()
                    try handle.close()
                } catch {
                    throw CLIError("cannot write \(temporary): \(error.localizedDescription)", exitCode: 3)
                }
                let snapshot: Raft.Snapshot
                do {
                    // The whole file is checked (magic, checksum, decoding) before it is kept.
                    snapshot = try SnapshotStore(directory: directory).load(temporary)
                } catch {
                    throw CLIError("the copied snapshot does not check: \(error)", exitCode: 3)
                }
                guard rename(temporary, file) == 0 else {
                    throw CLIError("cannot rename \(temporary) to \(file): errno \(errno)", exitCode: 3)
                }
                // The rename itself is durable only once the directory is.
                let directoryFD = open(directory, O_RDONLY | O_DIRECTORY)
                guard directoryFD >= 0 else { throw CLIError("cannot open \(directory): errno \(errno)", exitCode: 3) }
                defer { close(directoryFD) }
                guard fsync(directoryFD) == 0 else {
                    throw CLIError("cannot fsync \(directory): errno \(errno)", exitCode: 3)
                }
                print(
                    "snapshot of \(member ?? client.node) at index \(index) (term \(snapshot.metadata.term), kv revision \(reply.revision ?? 0), \(snapshot.data.count) bytes) saved to \(file)"
                )
            }
        }

        /// Copies the snapshot file at `index` from the member over the bus, in chunks, waiting
        /// (up to 30 s) for it to become durable.
        private func fetch(index: UInt64) async throws -> [UInt8] {
            var bytes: [UInt8] = []
            let deadline = ContinuousClock.now.advanced(by: .seconds(30))
            while true {
                var request = KV.Request(op: "snapshot-read")
                request.index = index
                request.offset = UInt64(bytes.count)
                let reply = try await ConsensusCall.send(
                    client, type: KV.RequestType.snapshotRead, request: request, isWrite: false,
                    timeoutMillis: 10_000, target: member, as: KV.Reply.self)
                let chunk = reply.chunk.flatMap { Data(base64Encoded: $0) }
                guard reply.status == .ok, let size = reply.size, let chunk else {
                    // Before the first byte, the file may not be durable yet: wait for it.
                    if bytes.isEmpty, ContinuousClock.now < deadline {
                        try await Task.sleep(for: .milliseconds(100))
                        continue
                    }
                    throw CLIError(
                        "cannot copy the snapshot at index \(index): \(reply.error ?? "unreadable reply")", exitCode: 3)
                }
                guard size <= UInt64(Self.fileBytesMax) else {
                    throw CLIError("the snapshot is \(size) bytes, more than \(Self.fileBytesMax)", exitCode: 3)
                }
                guard !chunk.isEmpty || UInt64(bytes.count) == size else {
                    throw CLIError("the member sent an empty chunk before the end of the snapshot", exitCode: 3)
                }
                bytes += chunk
                if UInt64(bytes.count) >= size { return bytes }
            }
        }

        /// The largest snapshot file `save` copies (the store's own bound on snapshot data is
        /// below this).
        static let fileBytesMax = 1 << 30
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
