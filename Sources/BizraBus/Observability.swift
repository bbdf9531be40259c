import FlyingFox
import Foundation
import Logging
import Metrics
import Prometheus
import Synchronization

/// Process-wide logging and metrics set-up, done once by every BIZRA executable.
public enum Observability {
    /// The registry every metric of this process is created in, served at `GET /metrics`.
    public static let registry = PrometheusCollectorRegistry()

    /// What a component serves at `GET /status` on its metrics port (set once by the component;
    /// nothing is served until it is set).
    public static let componentStatus = Mutex<(@Sendable () -> [UInt8])?>(nil)

    /// Logs go to standard error (the supervisor files them under `logs/`); the level comes from
    /// `BIZRA_LOG_LEVEL` (trace…critical, default info). Call once, first thing in `main`.
    public static func bootstrap(label: String) -> Logger {
        let level =
            ProcessInfo.processInfo.environment["BIZRA_LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
        LoggingSystem.bootstrap { name in
            var handler = StreamLogHandler.standardError(label: name)
            handler.logLevel = level
            return handler
        }
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return Logger(label: label)
    }

    /// Serves `GET /metrics` (Prometheus text) and, when given, `GET /status` (JSON) on
    /// 127.0.0.1:`port` (0 picks a free port). Returns the server and the port it listens on.
    public static func serveHTTP(port: Int, status: (@Sendable () -> [UInt8])?) async throws -> (HTTPServer, Int) {
        let server = HTTPServer(address: try .inet(ip4: "127.0.0.1", port: UInt16(port)), timeout: 10)
        await server.appendRoute("GET /metrics") { _ in
            HTTPResponse(
                statusCode: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: Data(Observability.registry.emitToBuffer()))
        }
        if let status {
            await server.appendRoute("GET /status") { _ in
                HTTPResponse(statusCode: .ok, headers: [.contentType: "application/json"], body: Data(status()))
            }
        }
        Task { try await server.run() }
        try await server.waitUntilListening(timeout: 5)
        var bound = port
        if case .ip4(_, let p)? = await server.listeningAddress { bound = Int(p) }
        return (server, bound)
    }
}
