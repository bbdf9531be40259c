import ArgumentParser
import BizraBus
import BizraConfig
import BizraCrypto
import Foundation

struct Bus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Talk to a node's bus directly (debugging).", subcommands: [Pub.self, Sub.self, Call.self])
}

/// Options for connecting to one node's core as a client identity.
struct ClientOptions: ParsableArguments {
    @OptionGroup var deployment: DeploymentOptions
    @Option(help: "The node whose core to connect to.") var node = "n1"
    @Option(help: "Client identity (key client/NAME, created if missing).") var client = "cli"

    /// A connected, started client with a random instance id (so concurrent CLI runs do not collide).
    func connect() throws -> BusClient {
        let config = try deployment.loadConfig()
        guard config.node(node) != nil else { throw CLIError("no node \(node) in the config", exitCode: 2) }
        return try BusClient.startClient(
            name: client, node: node, directory: deployment.directory, settings: config.bus,
            logger: .init(label: "bizra.cli"))
    }
}

extension Bus {
    struct Pub: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Publish a message on a topic.")
        @OptionGroup var client: ClientOptions
        @Argument var topic: String
        @Argument var message: String
        @Option(help: "Message type.") var type = "cli.message"
        @Option(help: "How many copies to publish.") var count = 1
        @Flag(help: "Cluster scope (carried to every node by the link service).") var cluster = false

        func run() async throws {
            try await CLIError.reporting {
                let bus = try client.connect()
                defer { bus.close() }
                // A new SUB/PUB connection needs a moment before the first message is not lost.
                try await Task.sleep(for: .milliseconds(100))
                for _ in 0..<count {
                    try bus.publish(
                        topic: topic, scope: cluster ? .cluster : .local, type: type, payload: Array(message.utf8))
                }
                try await Task.sleep(for: .milliseconds(100))
                print("published \(count) to \(topic)")
            }
        }
    }

    struct Sub: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print messages on topics starting with PREFIX.")
        @OptionGroup var client: ClientOptions
        @Argument var prefix: String
        @Option(help: "Stop after this many messages.") var count: Int?
        @Option(help: "Stop after this many seconds.") var seconds: Double?

        func run() async throws {
            try await CLIError.reporting {
                let bus = try client.connect()
                defer { bus.close() }
                let stream = bus.subscribe(prefix)
                let limit = seconds
                let timer = Task {
                    if let limit { try? await Task.sleep(for: .seconds(limit)); bus.close() }
                }
                var seen = 0
                for await delivery in stream {
                    seen += 1
                    if case .topic(let topic, _) = delivery.envelope.destination {
                        print(
                            "\(topic) \(delivery.type) from \(delivery.sender): \(String(decoding: delivery.payload, as: UTF8.self))"
                        )
                    }
                    fflush(nil)
                    if let count, seen >= count { break }
                }
                timer.cancel()
            }
        }
    }

    struct Call: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Send a request to a service and print the reply.")
        @OptionGroup var client: ClientOptions
        @Argument(help: "Service name, or COMPONENT#INSTANCE for one instance.") var service: String
        @Argument(help: "Request type, e.g. worker.work") var type: String
        @Argument var payload = ""
        @Option(help: "Node that serves it (default: --node).") var target: String?
        @Option(help: "Timeout per attempt, milliseconds.") var timeoutMillis: Int?
        @Option(help: "Send this many requests, one after another; {i} in the payload becomes the request number.")
        var count = 1

        func run() async throws {
            try await CLIError.reporting {
                guard count >= 1 else { throw CLIError("--count must be at least 1", exitCode: 2) }
                let bus = try client.connect()
                defer { bus.close() }
                let node = target ?? client.node
                let destination: Destination
                let parts = service.split(separator: "#")
                if parts.count == 2, let instance = UInt32(parts[1]) {
                    destination = .instance(Principal(node: node, component: String(parts[0]), instance: instance))
                } else {
                    destination = .service(node: node, name: service)
                }
                do {
                    for i in 0..<count {
                        let body = payload.replacingOccurrences(of: "{i}", with: "\(i)")
                        let reply = try await bus.request(
                            destination, type: type, payload: Array(body.utf8), timeoutMillis: timeoutMillis)
                        if i == count - 1 { print(String(decoding: reply.payload, as: UTF8.self)) }
                    }
                } catch {
                    throw CLIError("\(error)", exitCode: 1)
                }
            }
        }
    }
}
