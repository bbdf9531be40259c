/// The supervisor's control protocol over `supervisor.sock` (`ControlServer`/`ControlClient`):
/// JSON `ControlRequest` in, `ControlReply` out. Shared by the `bizra` CLI and the tests that
/// drive it, so both read one definition.
public struct ControlRequest: Codable, Sendable {
    /// `status`, `down` or `scale`.
    public var op: String
    public var component: String?
    public var count: Int?
    public var node: String?

    public init(op: String, component: String? = nil, count: Int? = nil, node: String? = nil) {
        self.op = op
        self.component = component
        self.count = count
        self.node = node
    }
}

public struct ControlReply: Codable, Sendable {
    public var ok: Bool
    public var message: String
    public var status: SupervisorStatus?

    public init(ok: Bool, message: String, status: SupervisorStatus?) {
        self.ok = ok
        self.message = message
        self.status = status
    }
}

/// The supervisor's answer to `status`, and what `bizra status --json` prints.
public struct SupervisorStatus: Codable, Sendable {
    public struct Node: Codable, Sendable {
        public var id: String
        public var httpPort: Int
        public var core: CoreStatusSummary?

        public init(id: String, httpPort: Int, core: CoreStatusSummary?) {
            self.id = id
            self.httpPort = httpPort
            self.core = core
        }
    }

    public struct CoreStatusSummary: Codable, Sendable {
        public var healthyInstances: [String]
        public var rejected: [String: Int]
        public var dropped: [String: Int]
        public var framesIn: Int
        public var framesOut: Int

        public init(
            healthyInstances: [String], rejected: [String: Int], dropped: [String: Int], framesIn: Int, framesOut: Int
        ) {
            self.healthyInstances = healthyInstances
            self.rejected = rejected
            self.dropped = dropped
            self.framesIn = framesIn
            self.framesOut = framesOut
        }
    }

    public struct Child: Codable, Sendable {
        public var node: String
        public var component: String
        public var instance: Int
        public var pid: Int32
        /// starting, running, backoff, draining, stopped or missing.
        public var state: String
        public var restarts: Int
        /// `healthy (in flight N)`, `unhealthy`, `unregistered`, `serving` (a core), `unknown` or `-`.
        public var health: String
        public var lastExit: String

        public init(
            node: String, component: String, instance: Int, pid: Int32, state: String, restarts: Int, health: String,
            lastExit: String
        ) {
            self.node = node
            self.component = component
            self.instance = instance
            self.pid = pid
            self.state = state
            self.restarts = restarts
            self.health = health
            self.lastExit = lastExit
        }
    }

    public var supervisorPID: Int32
    public var dataDir: String
    public var nodes: [Node]
    public var children: [Child]
    /// Each running link instance's status (bandwidth per peer), by node then instance; nil
    /// from a supervisor that does not report links.
    public var links: [LinkStatus]?

    public init(supervisorPID: Int32, dataDir: String, nodes: [Node], children: [Child], links: [LinkStatus]? = nil) {
        self.supervisorPID = supervisorPID
        self.dataDir = dataDir
        self.nodes = nodes
        self.children = children
        self.links = links
    }
}
