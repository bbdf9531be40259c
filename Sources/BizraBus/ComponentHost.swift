import BizraConfig
import Foundation
import Logging
import ServiceLifecycle

/// What a component's protocol core gets from the SDK: its config, identity, bus and logger.
public struct ComponentContext: Sendable {
    public let config: MeshConfig
    public let node: NodeConfig
    public let principal: Principal
    public let bus: BusClient
    public let log: Logger
    public let dataDirectory: DataDirectory
}

/// The common `main` of every component executable: parse the supervisor's arguments, load
/// config and keys, set up logging and metrics, connect and register with the core, run the
/// component until SIGTERM/SIGINT or until the core is gone, then drain and exit.
///
/// Arguments: `--node ID [--instance N] [--config FILE] [--data-dir DIR] [--port-base P]`.
/// Exit codes: 0 after a graceful stop, 2 for a usage or config error, 3 when the core went away.
public enum ComponentHost {
    public static func main(
        component: String, services: [String], isLink: Bool = false,
        body: @escaping @Sendable (ComponentContext) async throws -> Void
    ) async -> Never {
        let log = Observability.bootstrap(label: "bizra.\(component)")
        let launch: LaunchArguments
        do { launch = try LaunchArguments.parse(CommandLine.arguments) } catch {
            log.critical("\(error)")
            exit(2)
        }
        do {
            let context = try await connect(
                component: component, services: services, isLink: isLink, launch: launch, log: log)
            let service = ComponentService(context: context, body: body)
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: log))
            try await group.run()
            await context.bus.drain()
            context.bus.close()
            exit(context.bus.coreLost ? 3 : 0)
        } catch {
            log.critical("\(component) failed: \(error)")
            exit(2)
        }
    }

    private static func connect(
        component: String, services: [String], isLink: Bool, launch: LaunchArguments, log: Logger
    ) async throws -> ComponentContext {
        let config = try launch.loadConfig()
        guard let node = config.node(launch.node) else {
            throw BusError(
                .config,
                "node \(launch.node) is not in the config (nodes: \(config.nodes.map(\.id).joined(separator: ", ")))")
        }
        let directory = DataDirectory.resolve(launch.dataDir)
        let principal = Principal(node: node.id, component: component, instance: UInt32(launch.instance))
        let key = try KeyStore(directory: directory).load(keyName: principal.keyName)
        var log = log
        log[metadataKey: "node"] = "\(node.id)"
        log[metadataKey: "instance"] = "\(launch.instance)"
        let (_, metricsPort) = try await Observability.serveHTTP(port: 0) {
            Observability.componentStatus.withLock { $0 }?() ?? Array("{}".utf8)
        }
        let bus = BusClient(
            options: .init(
                principal: principal, key: key, endpoints: directory.endpoints(node: node.id), settings: config.bus,
                registers: true, services: services, isLink: isLink, metricsPort: metricsPort),
            logger: log)
        return ComponentContext(
            config: config, node: node, principal: principal, bus: bus, log: log, dataDirectory: directory)
    }
}

/// Runs a component body under service-lifecycle: cancelled on graceful shutdown, and ended when
/// the core has been silent for the heartbeat timeout (children exit when their core is gone).
struct ComponentService: Service {
    let context: ComponentContext
    let body: @Sendable (ComponentContext) async throws -> Void

    func run() async throws {
        try context.bus.start()
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await body(context) }
                group.addTask {
                    while !Task.isCancelled && !context.bus.coreLost { try await Task.sleep(for: .milliseconds(200)) }
                    if context.bus.coreLost { context.log.warning("core is gone; exiting") }
                }
                _ = try await group.next()
                group.cancelAll()
            }
        }
    }
}

/// The arguments the supervisor passes to `bizra-core` and every component.
public struct LaunchArguments: Sendable {
    public var node = ""
    public var instance = 0
    public var configPath: String?
    public var dataDir: String?
    public var portBase: Int?
    public var supervisorPID: Int32?

    public init() {}

    public static func parse(_ arguments: [String]) throws(BusError) -> LaunchArguments {
        var parsed = LaunchArguments()
        var index = 1
        func value(_ name: String) throws(BusError) -> String {
            guard index + 1 < arguments.count else { throw BusError(.config, "\(name) needs a value") }
            index += 1
            return arguments[index]
        }
        while index < arguments.count {
            switch arguments[index] {
            case "--node": parsed.node = try value("--node")
            case "--instance": parsed.instance = Int(try value("--instance")) ?? -1
            case "--config": parsed.configPath = try value("--config")
            case "--data-dir": parsed.dataDir = try value("--data-dir")
            case "--port-base": parsed.portBase = Int(try value("--port-base"))
            case "--supervisor-pid": parsed.supervisorPID = Int32(try value("--supervisor-pid"))
            case let other:
                throw BusError(
                    .config,
                    "unknown argument \(other); usage: --node ID [--instance N] [--config FILE] [--data-dir DIR] [--port-base P]"
                )
            }
            index += 1
        }
        guard !parsed.node.isEmpty else { throw BusError(.config, "--node ID is required") }
        guard (0...65_535).contains(parsed.instance) else { throw BusError(.config, "--instance must be 0...65535") }
        return parsed
    }

    /// The config named by `--config` (else the embedded default), shifted by `--port-base` or
    /// `BIZRA_PORT_BASE` when given.
    public func loadConfig() throws -> MeshConfig {
        var config =
            try configPath.map { path throws(ConfigError) in try MeshConfig.load(path: path) }
            ?? MeshConfig.embeddedDefault()
        let envBase = ProcessInfo.processInfo.environment["BIZRA_PORT_BASE"].flatMap { Int($0) }
        if let base = portBase ?? envBase { config = try config.withPortBase(base) }
        return config
    }
}
