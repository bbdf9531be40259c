import ArgumentParser
import BizraBus
import BizraConfig
import Foundation

struct Down: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Stop the supervisor and everything it runs.")
    @OptionGroup var deployment: DeploymentOptions

    func run() async throws {
        try await CLIError.reporting {
            let directory = deployment.directory
            let pid = (try? String(contentsOfFile: directory.supervisorPIDFile, encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            _ = try callSupervisor(directory, ControlRequest(op: "down"))
            let deadline = Date().addingTimeInterval(60)
            while let pid, kill(pid, 0) == 0, Date() < deadline { usleep(100_000) }
            print("stopped")
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show nodes, component instances, health and reject counters.")
    @OptionGroup var deployment: DeploymentOptions
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        try await CLIError.reporting {
            let reply = try callSupervisor(deployment.directory, ControlRequest(op: "status"))
            guard let status = reply.status else { throw CLIError(reply.message) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(status), as: UTF8.self))
            } else {
                print(StatusTable.render(status))
            }
        }
    }
}

struct Scale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add or drain instances of a component while running: COMPONENT=N.")
    @OptionGroup var deployment: DeploymentOptions
    @Argument(help: "COMPONENT=N, e.g. worker=3") var assignment: String
    @Option(help: "Only on this node (default: every supervised node).") var node: String?

    func run() async throws {
        try await CLIError.reporting {
            let parts = assignment.split(separator: "=")
            guard parts.count == 2, let count = Int(parts[1]) else {
                throw CLIError("expected COMPONENT=N, e.g. worker=3; got \(assignment)", exitCode: 2)
            }
            let reply = try callSupervisor(
                deployment.directory, ControlRequest(op: "scale", component: String(parts[0]), count: count, node: node)
            )
            guard reply.ok else { throw CLIError(reply.message, exitCode: 2) }
            print("scaled: \(reply.message)")
        }
    }
}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Manage Ed25519 identities.", subcommands: [Gen.self])

    struct Gen: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Create missing key pairs (every node's core and components, or one client) and update the keyring.")
        @OptionGroup var deployment: DeploymentOptions
        @Option(help: "Create the client identity NAME instead.") var client: String?

        func run() async throws {
            try await CLIError.reporting {
                let store = KeyStore(directory: deployment.directory)
                var names: [String] = []
                if let client {
                    guard !client.isEmpty, client.utf8.count <= 64, !client.contains("/") else {
                        throw CLIError("a client name is 1...64 characters without '/'", exitCode: 2)
                    }
                    names = ["client/\(client)"]
                } else {
                    for node in try deployment.loadConfig().nodes {
                        names.append("\(node.id)/core")
                        names += node.components.map { "\(node.id)/\($0.name)" }
                    }
                }
                for name in names { try store.loadOrCreate(keyName: name) }
                print("keys: \(names.joined(separator: ", "))")
                print("public keyring: \(deployment.directory.keyringPath) (distribute it with bus-config: `keyring:`)")
            }
        }
    }
}

/// The human-readable status table.
enum StatusTable {
    static func render(_ status: SupervisorStatus) -> String {
        var lines = ["supervisor pid \(status.supervisorPID)   data \(status.dataDir)", ""]
        lines.append(
            pad(["NODE", "COMPONENT", "INST", "PID", "STATE", "RESTARTS", "HEALTH"], [6, 13, 5, 8, 9, 9, 24]))
        for child in status.children {
            lines.append(
                pad(
                    [
                        child.node, child.component, "\(child.instance)", "\(child.pid)", child.state,
                        "\(child.restarts)", child.health,
                    ],
                    [6, 13, 5, 8, 9, 9, 24]))
        }
        lines.append("")
        for node in status.nodes {
            guard let core = node.core else {
                lines.append("\(node.id): core not answering on 127.0.0.1:\(node.httpPort)")
                continue
            }
            let rejects = core.rejected.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(
                separator: " ")
            let drops = core.dropped.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            lines.append(
                "\(node.id): frames in \(core.framesIn) out \(core.framesOut); rejected: \(rejects.isEmpty ? "none" : rejects); dropped: \(drops.isEmpty ? "none" : drops); http 127.0.0.1:\(node.httpPort)"
            )
        }
        lines += linkLines(status.links ?? [])
        return lines.joined(separator: "\n")
    }

    /// One line per link instance and peer: connections, throughput over the last second,
    /// compression ratio, totals, queue, drops and round-trip time.
    static func linkLines(_ links: [LinkStatus]) -> [String] {
        guard !links.isEmpty else { return [] }
        var lines = ["", "LINK (per peer; rates over the last second)"]
        let widths = [14, 5, 22, 22, 7, 18, 6, 8, 9]
        lines.append(
            pad(
                [
                    "LINK", "CONN", "OUT raw/wire B/s", "IN raw/wire B/s", "RATIO", "MSGS out/in", "QUEUE", "DROPS",
                    "RTT ms",
                ], widths))
        for link in links {
            for peer in link.peers {
                let name = "\(link.node)\(link.instance == 0 ? "" : "#\(link.instance)") → \(peer.node)"
                lines.append(
                    pad(
                        [
                            name, "\(peer.connections)",
                            "\(Int(peer.rawBytesOutPerSecond))/\(Int(peer.wireBytesOutPerSecond))",
                            "\(Int(peer.rawBytesInPerSecond))/\(Int(peer.wireBytesInPerSecond))",
                            peer.rawBytesOutPerSecond > 0 ? String(format: "%.2f", peer.compressionRatio) : "-",
                            "\(peer.messagesOut)/\(peer.messagesIn)",
                            "\(peer.queueDepth)", "\(peer.dropped)",
                            peer.rttMillis.map { String(format: "%.2f", $0) } ?? "-",
                        ], widths))
            }
        }
        return lines
    }

    private static func pad(_ cells: [String], _ widths: [Int]) -> String {
        zip(cells, widths).map { cell, width in
            cell.count >= width ? cell + " " : cell + String(repeating: " ", count: width - cell.count)
        }
        .joined()
    }
}
