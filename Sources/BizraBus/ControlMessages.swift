import Foundation

/// Message types between a component (or client) and its core. Payloads are JSON so that a
/// client in any language can speak them (docs/PROTOCOL.md §5).
public enum ControlType {
    /// Request; payload `RegisterRequest`; reply payload `RegisterReply`.
    public static let register = "bus.register"
    /// Message, component → core every heartbeat interval (payload `HeartbeatInfo`); the core
    /// answers each with an empty `bus.heartbeat` message so the component knows it is alive.
    public static let heartbeat = "bus.heartbeat"
    /// Message: take me out of service dispatch (graceful drain before exit).
    public static let deregister = "bus.deregister"
    /// Request: the core's `CoreStatus` as JSON.
    public static let status = "bus.status"
}

public struct RegisterRequest: Codable, Sendable {
    public var services: [String]
    public var pid: Int
    public var metricsPort: Int
    public var link: Bool
}

public struct RegisterReply: Codable, Sendable {
    public var node: String
    public var heartbeatIntervalMillis: Int
    public var heartbeatTimeoutMillis: Int
}

public struct HeartbeatInfo: Codable, Sendable {
    public var healthy: Bool
    public var inflight: Int
    public var handled: Int
    public var failed: Int
}

/// A core's status, served at `GET /status` and as the reply to `bus.status`.
public struct CoreStatus: Codable, Sendable {
    public struct InstanceStatus: Codable, Sendable {
        public var component: String
        public var instance: UInt32
        public var pid: Int
        public var services: [String]
        public var healthy: Bool
        public var inflight: Int
        public var handled: Int
        public var failed: Int
        public var lastHeartbeatAgeMillis: Int
        public var metricsPort: Int
    }

    public var node: String
    public var pid: Int
    public var uptimeSeconds: Double
    public var instances: [InstanceStatus]
    public var rejected: [String: Int]
    public var dropped: [String: Int]
    public var framesIn: Int
    public var framesOut: Int
    public var envelopesIn: Int
    public var sequenceGaps: Int
    public var linkRegistered: Bool
}

enum JSON {
    static func encode<T: Encodable>(_ value: T) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return Array((try? encoder.encode(value)) ?? Data())
    }

    static func decode<T: Decodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
        try? JSONDecoder().decode(type, from: Data(bytes))
    }
}
