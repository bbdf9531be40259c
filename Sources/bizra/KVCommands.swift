import ArgumentParser
import BizraBus
import BizraCrypto
import BizraKV
import Foundation

/// `bizra kv …`: the client of the `consensus` service.
///
/// Exit codes (README, docs/RUNBOOK.md): 0 ok, 1 not found, 2 cas mismatch, 3 definite failure
/// (nothing was applied: refused, no leader, no consensus service, bad arguments), 4 unknown
/// outcome (a write may or may not have been applied; retry with the same --client-id and
/// --sequence to find out, which the state machine answers exactly once).
struct KVCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kv", abstract: "Read and write the replicated key-value store (bizra-consensus).",
        discussion: "Exit codes: 0 ok, 1 not found, 2 cas mismatch, 3 definite failure, 4 unknown outcome.",
        subcommands: [Put.self, Get.self, Delete.self, CAS.self, List.self, Watch.self, Lease.self, Proof.self])
}

/// Options of every `bizra kv` command.
struct KVOptions: ParsableArguments {
    @OptionGroup var client: ClientOptions
    @Flag(help: "Print the service's JSON reply.") var json = false
    @Option(help: "Exactly-once identity of a write: the client id (default: random per run).")
    var clientID: UInt64?
    @Option(help: "The write's sequence for --client-id (reuse both to retry a write exactly once).")
    var sequence: UInt64 = 1
    @Option(help: "Milliseconds to wait for an answer.") var timeoutMillis = 6_000
}

/// The exit codes of `bizra kv` and `bizra consensus`.
enum KVExit {
    static let ok: Int32 = 0
    static let notFound: Int32 = 1
    static let casMismatch: Int32 = 2
    static let failed: Int32 = 3
    static let unknown: Int32 = 4

    static func code(for status: KV.Reply.Status) -> Int32 {
        switch status {
        case .ok: ok
        case .notFound: notFound
        case .casMismatch: casMismatch
        case .failed, .notLeader: failed
        case .unknown: unknown
        }
    }
}

/// One request/reply exchange with the `consensus` service of `--node`.
enum ConsensusCall {
    /// Sends `request` (JSON) as `type` and decodes the reply as `Reply`. A request that got no
    /// answer ends `unknown` when it was a write, `failed` otherwise.
    static func send<Reply: Decodable>(
        _ options: ClientOptions, type: String, request: KV.Request, isWrite: Bool, timeoutMillis: Int,
        target: String? = nil, as reply: Reply.Type
    ) async throws -> Reply {
        let bus: BusClient
        do { bus = try options.connect() } catch {
            throw CLIError("cannot connect to node \(options.node): \(error)", exitCode: KVExit.failed)
        }
        defer { bus.close() }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let payload = Array(try encoder.encode(request))
        let destination = Destination.service(node: target ?? options.node, name: "consensus")
        do {
            let delivery = try await bus.request(
                destination, type: type, payload: payload, timeoutMillis: timeoutMillis, retries: 1)
            do { return try JSONDecoder().decode(Reply.self, from: Data(delivery.payload)) } catch {
                throw CLIError("the consensus service sent an unreadable reply: \(error)", exitCode: KVExit.unknown)
            }
        } catch let error as BusError {
            let noAnswer = error.code == .timedOut || error.failure?.code == .timedOut
            if noAnswer && isWrite {
                throw CLIError("no answer from consensus (outcome unknown): \(error)", exitCode: KVExit.unknown)
            }
            throw CLIError("consensus request failed: \(error)", exitCode: KVExit.failed)
        }
    }
}

extension KVOptions {
    /// Sends a KV request and reports the reply: JSON with --json, else `text` of it (or the
    /// status on standard error); exits with the reply's code.
    func run(_ request: KV.Request, isWrite: Bool, text: (KV.Reply) -> String?) async throws {
        try await CLIError.reporting {
            var request = request
            if isWrite {
                request.client = clientID ?? UInt64.random(in: 1...UInt64.max)
                request.sequence = sequence
            }
            let reply = try await ConsensusCall.send(
                client, type: KV.RequestType.kv, request: request, isWrite: isWrite, timeoutMillis: timeoutMillis,
                as: KV.Reply.self)
            KVOptions.report(reply, json: json, text: text)
        }
    }

    static func report(_ reply: KV.Reply, json: Bool, text: (KV.Reply) -> String?) {
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            if let data = try? encoder.encode(reply) { print(String(decoding: data, as: UTF8.self)) }
        } else if reply.status == .ok {
            if let line = text(reply) { print(line) }
        } else {
            var line = reply.status.rawValue.replacingOccurrences(of: "_", with: " ")
            if reply.status == .casMismatch { line += ": the key's modification revision is \(reply.revision ?? 0)" }
            if let error = reply.error { line += ": \(error)" }
            if let leader = reply.leader { line += " (leader: \(leader))" }
            FileHandle.standardError.write(Data("bizra: \(line)\n".utf8))
        }
        fflush(nil)
        let code = KVExit.code(for: reply.status)
        if code != 0 { Foundation.exit(code) }
    }
}

extension KVCommand {
    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set KEY to VALUE (prints the new revision).")
        @OptionGroup var options: KVOptions
        @Argument var key: String
        @Argument var value: String
        @Option(help: "Attach the key to this lease (deleted when it ends).") var lease: UInt64?

        func run() async throws {
            var request = KV.Request(op: "put")
            request.key = key
            request.value = value
            request.lease = lease
            try await options.run(request, isWrite: true) { "OK \($0.revision ?? 0)" }
        }
    }

    struct Get: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print KEY's value (linearizable read; the bare value without --json).")
        @OptionGroup var options: KVOptions
        @Argument var key: String

        func run() async throws {
            var request = KV.Request(op: "get")
            request.key = key
            try await options.run(request, isWrite: false) { $0.value ?? "" }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete KEY.")
        @OptionGroup var options: KVOptions
        @Argument var key: String

        func run() async throws {
            var request = KV.Request(op: "delete")
            request.key = key
            try await options.run(request, isWrite: true) { "OK \($0.revision ?? 0)" }
        }
    }

    struct CAS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "cas",
            abstract: "Set KEY to VALUE only if its modification revision is --expected (0: only if absent).")
        @OptionGroup var options: KVOptions
        @Argument var key: String
        @Argument var value: String
        @Option(help: "The modification revision KEY must have (0 = KEY must not exist).") var expected: UInt64
        @Option(help: "Attach the key to this lease.") var lease: UInt64?

        func run() async throws {
            var request = KV.Request(op: "cas")
            request.key = key
            request.value = value
            request.expected = expected
            request.lease = lease
            try await options.run(request, isWrite: true) { "OK \($0.revision ?? 0)" }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List keys starting with PREFIX (KEY=VALUE lines).")
        @OptionGroup var options: KVOptions
        @Argument var prefix = ""
        @Option(help: "The most keys to list.") var limit: Int?

        func run() async throws {
            var request = KV.Request(op: "list")
            request.prefix = prefix
            request.limit = limit
            try await options.run(request, isWrite: false) { reply in
                let lines = (reply.items ?? []).map { "\($0.key)=\($0.value)" }
                return lines.isEmpty ? nil : lines.joined(separator: "\n")
            }
        }
    }

    struct Lease: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Leases: grant TTL_MS | revoke ID | keepalive ID (ID is also the lock's fencing token).")
        @OptionGroup var options: KVOptions
        @Argument(help: "grant, revoke or keepalive") var action: String
        @Argument(help: "TTL in milliseconds (grant) or the lease id.") var value: UInt64

        func run() async throws {
            var request = KV.Request(op: "lease-\(action)")
            switch action {
            case "grant": request.ttlMillis = value
            case "revoke", "keepalive": request.lease = value
            default: throw ValidationError("the action is grant, revoke or keepalive")
            }
            try await options.run(request, isWrite: action != "keepalive") { reply in
                action == "grant" ? "\(reply.lease ?? 0)" : "OK"
            }
        }
    }

    struct Watch: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print changes to keys starting with PREFIX as they apply on --node (JSON lines with --json).",
            discussion: """
                With --from-revision R it first replays the changes from revision R on that --node still holds \
                (its last 10,000 changes or 16 MiB since its snapshot), then follows live ones, each printed once, in \
                revision order. A revision older than that ends with exit code 3 and names the oldest one held.
                """)
        @OptionGroup var client: ClientOptions
        @Argument var prefix = ""
        @Flag(help: "Print each event as JSON.") var json = false
        @Option(help: "Stop after this many events.") var count: Int?
        @Option(help: "Stop after this many seconds.") var seconds: Double?
        @Option(help: "Replay the changes from this revision on before following live ones.") var fromRevision: UInt64?

        func run() async throws {
            try await CLIError.reporting {
                let bus = try client.connect()
                defer { bus.close() }
                let stream = bus.subscribe(KV.watchTopicPrefix + prefix)
                let limit = seconds
                let timer = Task {
                    if let limit {
                        try? await Task.sleep(for: .seconds(limit))
                        bus.close()
                    }
                }
                defer { timer.cancel() }
                var seen = 0
                var stitcher: KV.WatchStitcher?
                if let from = fromRevision {
                    // The subscription is made first, so that nothing falls between the replay and
                    // the live events; a gap before the first live event is filled again below.
                    try await Task.sleep(for: .milliseconds(300))
                    let (events, through) = try await replay(bus, from: from)
                    for event in events {
                        if let count, seen >= count { return }
                        show(event)
                        seen += 1
                    }
                    stitcher = KV.WatchStitcher(replayedThrough: through)
                    if let count, seen >= count { return }
                }
                for await delivery in stream {
                    if let count, seen >= count { break }
                    guard let event = try? JSONDecoder().decode(KV.WatchEvent.self, from: Data(delivery.payload))
                    else { continue }
                    // A topic prefix also matches longer keys cut to the topic's length limit.
                    guard event.key.hasPrefix(prefix) else { continue }
                    if var current = stitcher {
                        var step = current.live(event)
                        if case .fillGap(let from) = step {
                            let (events, through) = try await replay(bus, from: from)
                            for missed in events {
                                if let count, seen >= count { return }
                                show(missed)
                                seen += 1
                            }
                            current.filled(through: through)
                            step = current.live(event)
                        }
                        stitcher = current
                        if step == .skip { continue }
                    }
                    if let count, seen >= count { break }
                    show(event)
                    seen += 1
                }
            }
        }

        private func show(_ event: KV.WatchEvent) {
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                print(String(decoding: (try? encoder.encode(event)) ?? Data(), as: UTF8.self))
            } else {
                print(
                    event.type == "put"
                        ? "PUT \(event.key)=\(event.value) (revision \(event.revision))"
                        : "DELETE \(event.key) (revision \(event.revision))")
            }
            fflush(nil)
        }

        /// The changes from `from` on that the member holds, all pages, and the revision they
        /// cover through. A compacted revision ends the command (exit code 3) naming the floor.
        private func replay(_ bus: BusClient, from: UInt64) async throws -> ([KV.WatchEvent], UInt64) {
            var events: [KV.WatchEvent] = []
            var next = from
            for _ in 0..<Self.replayPagesMax {
                var request = KV.Request(op: "watch-history")
                request.prefix = prefix
                request.fromRevision = next
                let payload = Array(try JSONEncoder().encode(request))
                let delivery: Delivery
                do {
                    delivery = try await bus.request(
                        .service(node: client.node, name: "consensus"), type: KV.RequestType.kv, payload: payload,
                        timeoutMillis: 5_000, retries: 1)
                } catch {
                    throw CLIError("the replay request failed: \(error)", exitCode: KVExit.failed)
                }
                guard let reply = try? JSONDecoder().decode(KV.Reply.self, from: Data(delivery.payload)) else {
                    throw CLIError("the consensus service sent an unreadable reply", exitCode: KVExit.failed)
                }
                guard reply.status == .ok, let through = reply.revision else {
                    throw CLIError(reply.error ?? "the replay was refused", exitCode: KVExit.failed)
                }
                events += reply.events ?? []
                guard reply.more == true else { return (events, through) }
                next = through + 1
            }
            throw CLIError("the replay did not end within \(Self.replayPagesMax) pages", exitCode: KVExit.failed)
        }

        /// Pages one replay may take (each at most `KV.WatchHistory.pageEventsMax` events; the
        /// member holds `KV.WatchHistory.eventsMaxDefault`, so a live store never needs more).
        static let replayPagesMax = 64
    }
}

extension KVCommand {
    struct Proof: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print (or save) an inclusion proof of the log entry that last wrote KEY.",
            discussion:
                "Check it offline with `bizra verify-proof FILE --root ROOT` (ROOT from `bizra consensus status`).")
        @OptionGroup var client: ClientOptions
        @Argument var key: String
        @Option(help: "Write the proof to this file instead of standard output.") var output: String?

        func run() async throws {
            try await CLIError.reporting {
                var request = KV.Request(op: "proof")
                request.key = key
                let reply = try await ConsensusCall.send(
                    client, type: KV.RequestType.proof, request: request, isWrite: false, timeoutMillis: 10_000,
                    as: KV.Reply.self)
                guard reply.status == .ok, let proof = reply.proof else {
                    KVOptions.report(reply, json: false) { _ in nil }
                    return
                }
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                let text = String(decoding: try encoder.encode(proof), as: UTF8.self) + "\n"
                if let output {
                    try text.write(toFile: output, atomically: true, encoding: .utf8)
                    print("proof of \(key) (entry \(proof.entry.index), root \(proof.root.hex)) written to \(output)")
                } else {
                    print(text, terminator: "")
                }
            }
        }
    }
}

/// `bizra verify-proof FILE`: checks an inclusion proof offline (no cluster needed).
struct VerifyProof: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-proof",
        abstract: "Check a `bizra kv proof` file offline: exit 0 when it holds, 3 when it does not.")
    @Argument var file: String
    @Option(help: "The Merkle root you trust (64 hex digits), e.g. from `bizra consensus status` of several members.")
    var root: String?

    func run() throws {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: file)) } catch {
            throw CLIError("cannot read \(file): \(error.localizedDescription)", exitCode: KVExit.failed)
        }
        guard let proof = try? JSONDecoder().decode(KV.InclusionProof.self, from: data) else {
            throw CLIError("\(file) is not an inclusion proof", exitCode: KVExit.failed)
        }
        var trusted: Digest256?
        if let root {
            guard let digest = Digest256(hex: root) else {
                throw CLIError("--root must be 64 hex digits", exitCode: KVExit.failed)
            }
            trusted = digest
        }
        if let problem = proof.problem(trustedRoot: trusted) {
            FileHandle.standardError.write(Data("bizra: invalid proof: \(problem)\n".utf8))
            throw ExitCode(KVExit.failed)
        }
        print(
            "valid: entry \(proof.entry.index) (term \(proof.entry.term)) wrote \(proof.key)=\(proof.value); it is leaf \(proof.proof.leafIndex) of the Merkle tree of \(proof.proof.treeSize) entries with root \(proof.root.hex)\(trusted == nil ? " (pass --root to check the root against one you trust)" : ", the trusted root")"
        )
    }
}
