import BizraBus
import BizraConfig
import Foundation
import Synchronization

/// `bizra up`'s supervisor: runs each selected node's core and components as child processes,
/// restarts them with back-off when they crash, scales them on request, answers `status`,
/// and stops them in reverse start order.
final class Supervisor {
    struct Plan {
        var config: MeshConfig
        var nodes: [NodeConfig]
        /// Only these components (all configured ones when nil).
        var onlyComponents: Set<String>?
        var directory: DataDirectory
        var configPath: String?
        var portBase: Int?
    }

    /// How long a stopping child gets between SIGTERM and SIGKILL.
    static let stopGraceMicros: Int64 = 5_000_000
    static let tickMillis = 100

    let plan: Plan
    let binDir = ProcessSpawner.binaryDirectory()
    var children: [SupervisedChild] = []
    var control: ControlServer
    let stopRequested = Atomic<Bool>(false)
    let coreStatus = CoreStatusBoard()
    var shuttingDown = false
    /// Instances wanted per `node/component`, from the config and `scale`.
    var desired: [String: Int] = [:]

    init(plan: Plan) throws {
        self.plan = plan
        control = try ControlServer(endpoint: plan.directory.supervisorSocket)
    }

    // MARK: start

    func startAll() throws {
        try DataDirectory.makeDirectory(plan.directory.logsDir)
        try ensureKeys()
        for node in plan.nodes {
            var core = SupervisedChild(node: node.id, component: "core", instance: 0)
            start(&core)
            children.append(core)
        }
        for node in plan.nodes { waitForCore(node) }
        for node in plan.nodes {
            for spec in node.components where plan.onlyComponents?.contains(spec.name) ?? true {
                desired["\(node.id)/\(spec.name)"] = spec.instances
                for instance in 0..<spec.instances {
                    addComponent(node: node.id, component: spec.name, instance: instance)
                }
            }
        }
    }

    /// Key pairs for every identity this supervisor starts, plus the CLI's client identity.
    private func ensureKeys() throws {
        let store = KeyStore(directory: plan.directory)
        for node in plan.nodes {
            try store.loadOrCreate(keyName: "\(node.id)/core")
            for spec in node.components { try store.loadOrCreate(keyName: "\(node.id)/\(spec.name)") }
        }
        try store.loadOrCreate(keyName: "client/cli")
    }

    private func waitForCore(_ node: NodeConfig) {
        let socketPath = plan.directory.runDir(node: node.id) + "/router.sock"
        let deadline = Clocks.monotonicMicros() + 10_000_000
        while Clocks.monotonicMicros() < deadline {
            if HTTPGet.body(port: node.httpPort, path: "/status", timeoutMillis: 200) != nil,
                FileManager.default.fileExists(atPath: socketPath)
            {
                return
            }
            usleep(50_000)
        }
        print(
            "warning: core of \(node.id) is not answering on 127.0.0.1:\(node.httpPort) after 10 s; see \(plan.directory.logPath(node: node.id, component: "core", instance: 0))"
        )
    }

    func addComponent(node: String, component: String, instance: Int) {
        var child = SupervisedChild(node: node, component: component, instance: instance)
        if !FileManager.default.isExecutableFile(atPath: executable(for: component)) {
            child.state = .missing
            print("note: \(component) is configured on \(node) but bizra-\(component) is not built; skipped")
        } else {
            start(&child)
        }
        children.append(child)
    }

    func executable(for component: String) -> String { binDir + "/bizra-\(component)" }

    func start(_ child: inout SupervisedChild) {
        var arguments = ["--node", child.node, "--data-dir", plan.directory.root, "--supervisor-pid", "\(getpid())"]
        if !child.isCore { arguments += ["--instance", "\(child.instance)"] }
        if let path = plan.configPath { arguments += ["--config", path] }
        if let base = plan.portBase { arguments += ["--port-base", "\(base)"] }
        let log = plan.directory.logPath(node: child.node, component: child.component, instance: child.instance)
        do {
            child.pid = try ProcessSpawner.spawn(
                path: executable(for: child.component), arguments: arguments, logPath: log)
            child.state = .running
            child.startedMicros = Clocks.monotonicMicros()
        } catch {
            child.state = .backoff
            child.lastExit = "\(error)"
            scheduleRestart(&child)
        }
    }

    private func scheduleRestart(_ child: inout SupervisedChild) {
        let ran = Clocks.monotonicMicros() - child.startedMicros
        child.backoffMillis = RestartPolicy.next(after: child.backoffMillis, ranForMicros: ran)
        child.nextStartMicros = Clocks.monotonicMicros() + Int64(child.backoffMillis) * 1000
        child.state = .backoff
    }

    // MARK: run

    /// Supervises until `down`, SIGINT or SIGTERM; `onTick` runs every tick (the live display).
    func run(onTick: (Supervisor) -> Void) {
        let statusPoller = startStatusPoller()
        while !stopRequested.load(ordering: .acquiring) {
            control.serveOne(timeoutMillis: Self.tickMillis) { handleControl($0) }
            reapAndRestart()
            onTick(self)
        }
        statusPoller.cancel()
        stopAll()
        control.close()
    }

    func reapAndRestart() {
        for exit in ProcessSpawner.reap() {
            guard let index = children.firstIndex(where: { $0.pid == exit.pid }) else { continue }
            children[index].lastExit = exit.description
            children[index].pid = 0
            if children[index].state == .draining || shuttingDown || stopRequested.load(ordering: .acquiring) {
                children[index].state = .stopped
            } else {
                children[index].restarts += 1
                print(
                    "\(children[index].key) \(exit.description); restarting in \(RestartPolicy.next(after: children[index].backoffMillis, ranForMicros: Clocks.monotonicMicros() - children[index].startedMicros)) ms"
                )
                scheduleRestart(&children[index])
            }
        }
        children.removeAll { $0.state == .stopped && !$0.isCore && shuttingDown == false }
        guard !shuttingDown && !stopRequested.load(ordering: .acquiring) else { return }
        for key in desired.keys.sorted() {
            let parts = key.split(separator: "/").map(String.init)
            reconcile(node: parts[0], component: parts[1], count: desired[key]!)
        }
        let now = Clocks.monotonicMicros()
        for index in children.indices where children[index].state == .backoff && children[index].nextStartMicros <= now
        {
            start(&children[index])
        }
    }

    /// Stops components in reverse start order, then cores: SIGTERM, then SIGKILL after the grace period.
    func stopAll() {
        shuttingDown = true
        let order = ComponentCatalog.startOrder
        let components = children.indices.filter { !children[$0].isCore }
            .sorted {
                (order.firstIndex(of: children[$0].component) ?? 99)
                    > (order.firstIndex(of: children[$1].component) ?? 99)
            }
        let groups = Dictionary(grouping: components) { children[$0].component }
        for name in order.reversed() { if let group = groups[name] { stop(group) } }
        stop(children.indices.filter { children[$0].isCore })
    }

    private func stop(_ indices: [Int]) {
        let live = indices.filter { children[$0].pid > 0 }
        for index in live {
            children[index].state = .draining
            kill(children[index].pid, SIGTERM)
        }
        let deadline = Clocks.monotonicMicros() + Self.stopGraceMicros
        while live.contains(where: { children[$0].pid > 0 }) && Clocks.monotonicMicros() < deadline {
            reapAndRestart()
            usleep(20_000)
        }
        for index in live where children[index].pid > 0 {
            print("\(children[index].key) did not stop within 5 s; killing")
            kill(children[index].pid, SIGKILL)
        }
        while live.contains(where: { children[$0].pid > 0 }) && Clocks.monotonicMicros() < deadline + 2_000_000 {
            reapAndRestart()
            usleep(20_000)
        }
    }

    private func startStatusPoller() -> Task<Void, Never> {
        let nodes = plan.nodes
        let store = coreStatus
        return Task.detached {
            while !Task.isCancelled {
                for node in nodes {
                    let status = HTTPGet.body(port: node.httpPort, path: "/status", timeoutMillis: 500)
                        .flatMap { try? JSONDecoder().decode(CoreStatus.self, from: Data($0)) }
                    store.statuses.withLock { $0[node.id] = status }
                    let links = (status?.instances ?? []).filter { $0.component == "compression" && $0.metricsPort > 0 }
                        .sorted { $0.instance < $1.instance }
                        .compactMap { instance in
                            HTTPGet.body(port: instance.metricsPort, path: "/status", timeoutMillis: 300)
                                .flatMap { try? JSONDecoder().decode(LinkStatus.self, from: Data($0)) }
                        }
                    store.links.withLock { $0[node.id] = links }
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }
}

/// The latest `/status` of each node's core, polled in the background.
final class CoreStatusBoard: Sendable {
    let statuses = Mutex<[String: CoreStatus]>([:])
    /// The latest `/status` of each node's link instances.
    let links = Mutex<[String: [LinkStatus]]>([:])
}
