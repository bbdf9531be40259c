import BizraBus
import Foundation
import Logging
import ServiceLifecycle

/// `bizra-core --node ID [--config FILE] [--data-dir DIR] [--port-base P] [--supervisor-pid PID]`
///
/// Hosts one node's bus (BusCore) and serves `/metrics` and `/status` on 127.0.0.1 at the node's
/// port base. Stops gracefully on SIGTERM/SIGINT, and by itself when its supervisor is gone.
@main
struct CoreMain {
    static func main() async {
        let log = Observability.bootstrap(label: "bizra.core")
        do {
            let launch = try LaunchArguments.parse(CommandLine.arguments)
            let config = try launch.loadConfig()
            guard let node = config.node(launch.node) else {
                throw BusError(.config, "node \(launch.node) is not in the config")
            }
            let directory = DataDirectory.resolve(launch.dataDir)
            let keys = KeyStore(directory: directory)
            let coreKey = try keys.loadOrCreate(keyName: "\(node.id)/core")
            try DataDirectory.makeDirectory(directory.runDir(node: node.id))
            let extra = config.keyringPath
            let core = BusCore(
                options: .init(
                    node: node.id, settings: config.bus, acl: config.acl, keyring: try keys.keyring(extraPath: extra),
                    coreKey: coreKey, endpoints: directory.endpoints(node: node.id),
                    reloadKeyring: { try? keys.keyring(extraPath: extra) }),
                logger: log)
            let (_, port) = try await Observability.serveHTTP(port: node.httpPort) { encodeStatus(core.status()) }
            log.info("core HTTP on 127.0.0.1:\(port) (/metrics, /status)", metadata: ["node": "\(node.id)"])
            let service = CoreService(core: core, supervisorPID: launch.supervisorPID, log: log)
            let group = ServiceGroup(
                configuration: .init(
                    services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: log))
            try await group.run()
            exit(0)
        } catch {
            log.critical("bizra-core failed: \(error)")
            exit(2)
        }
    }

    static func encodeStatus(_ status: CoreStatus) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return Array((try? encoder.encode(status)) ?? Data())
    }
}

/// Runs the core's loop on a dedicated thread (blocking ZeroMQ calls stay off Swift's
/// cooperative pool) until graceful shutdown or until the supervisor disappears.
struct CoreService: Service {
    let core: BusCore
    let supervisorPID: Int32?
    let log: Logger

    func run() async throws {
        let finished = AsyncStream<Result<Void, BusError>>.makeStream()
        let thread = Thread { [core] in
            do throws(BusError) {
                try core.run()
                finished.continuation.yield(.success(()))
            } catch {
                finished.continuation.yield(.failure(error))
            }
            finished.continuation.finish()
        }
        thread.name = "bizra-core-loop"
        thread.start()
        let watchdog = Task { [core, supervisorPID, log] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(500))
                if let pid = supervisorPID, kill(pid, 0) != 0 {
                    log.warning("supervisor \(pid) is gone; stopping")
                    core.stop()
                    return
                }
            }
        }
        let failure = await withGracefulShutdownHandler {
            var failure: BusError?
            for await result in finished.stream {
                if case .failure(let error) = result { failure = error }
            }
            return failure
        } onGracefulShutdown: {
            core.stop()
        }
        watchdog.cancel()
        if let failure { throw failure }
    }
}
