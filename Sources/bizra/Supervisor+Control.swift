import BizraBus
import BizraConfig
import Foundation

/// The supervisor's control operations: status, down, scale.
extension Supervisor {
    func handleControl(_ bytes: [UInt8]) -> [UInt8] {
        let reply: ControlReply
        if let request = try? JSONDecoder().decode(ControlRequest.self, from: Data(bytes)) {
            switch request.op {
            case "status": reply = ControlReply(ok: true, message: "", status: status())
            case "down":
                stopRequested.store(true, ordering: .releasing)
                reply = ControlReply(ok: true, message: "stopping", status: nil)
            case "scale": reply = scale(request)
            default: reply = ControlReply(ok: false, message: "unknown operation \(request.op)", status: nil)
            }
        } else {
            reply = ControlReply(ok: false, message: "malformed control request", status: nil)
        }
        return Array((try? JSONEncoder().encode(reply)) ?? Data())
    }

    func scale(_ request: ControlRequest) -> ControlReply {
        guard let component = request.component, let count = request.count else {
            return ControlReply(ok: false, message: "scale needs COMPONENT=N", status: nil)
        }
        guard ComponentCatalog.isKnown(component) else {
            return ControlReply(
                ok: false,
                message:
                    "unknown component \(component); known: \(ComponentCatalog.startOrder.joined(separator: ", "))",
                status: nil)
        }
        let limit = ComponentCatalog.maxInstances(of: component)
        if limit == 1 && count > 1 {
            return ControlReply(
                ok: false,
                message:
                    "\(component) runs at most one instance per node (it owns the node's log); refusing \(component)=\(count)",
                status: nil)
        }
        guard (0...limit).contains(count) else {
            return ControlReply(ok: false, message: "instances must be 0...\(limit)", status: nil)
        }
        let targets = plan.nodes.filter { request.node == nil || $0.id == request.node }
        guard !targets.isEmpty else {
            return ControlReply(ok: false, message: "no node \(request.node ?? "") here", status: nil)
        }
        guard FileManager.default.isExecutableFile(atPath: executable(for: component)) else {
            return ControlReply(ok: false, message: "bizra-\(component) is not built", status: nil)
        }
        let store = KeyStore(directory: plan.directory)
        for node in targets { _ = try? store.loadOrCreate(keyName: "\(node.id)/\(component)") }
        for node in targets { scale(node: node.id, component: component, to: count) }
        return ControlReply(
            ok: true, message: "\(component)=\(count) on \(targets.map(\.id).joined(separator: ", "))", status: status()
        )
    }

    private func scale(node: String, component: String, to count: Int) {
        desired["\(node)/\(component)"] = count
        reconcile(node: node, component: component, count: count)
    }

    /// Starts the missing instances below `count` and drains those at or above it. An instance
    /// number still held by a draining process is not reused until that process has exited
    /// (two processes with one identity would fight over the core's route).
    func reconcile(node: String, component: String, count: Int) {
        let holders = children.filter { $0.node == node && $0.component == component && $0.state != .stopped }
        for instance in 0..<count where !holders.contains(where: { $0.instance == instance }) {
            addComponent(node: node, component: component, instance: instance)
        }
        for index in children.indices
        where children[index].node == node && children[index].component == component
            && children[index].instance >= count && children[index].state != .draining
        {
            if children[index].pid > 0 {
                children[index].state = .draining
                kill(children[index].pid, SIGTERM)
            } else {
                children[index].state = .stopped
            }
        }
    }

    func status() -> SupervisorStatus {
        let cores = coreStatus.statuses.withLock { $0 }
        let nodes = plan.nodes.map { node in
            SupervisorStatus.Node(
                id: node.id, httpPort: node.httpPort,
                core: cores[node.id].map { core in
                    SupervisorStatus.CoreStatusSummary(
                        healthyInstances: core.instances.filter(\.healthy).map { "\($0.component)#\($0.instance)" },
                        rejected: core.rejected, dropped: core.dropped, framesIn: core.framesIn,
                        framesOut: core.framesOut)
                })
        }
        let rows = children.map { child in
            SupervisorStatus.Child(
                node: child.node, component: child.component, instance: child.instance, pid: child.pid,
                state: child.state.rawValue, restarts: child.restarts, health: health(of: child, cores: cores),
                lastExit: child.lastExit)
        }
        let links = coreStatus.links.withLock { all in plan.nodes.flatMap { all[$0.id] ?? [] } }
        return SupervisorStatus(
            supervisorPID: getpid(), dataDir: plan.directory.root, nodes: nodes, children: rows, links: links)
    }

    private func health(of child: SupervisedChild, cores: [String: CoreStatus]) -> String {
        guard child.state == .running else { return "-" }
        guard let core = cores[child.node] else { return "unknown" }
        if child.isCore { return "serving" }
        guard
            let seen = core.instances.first(where: {
                $0.component == child.component && Int($0.instance) == child.instance
            })
        else { return "unregistered" }
        return seen.healthy ? "healthy (in flight \(seen.inflight))" : "unhealthy"
    }
}
