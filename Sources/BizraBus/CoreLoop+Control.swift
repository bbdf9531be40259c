import Foundation

/// Control messages from components and clients to their core: register, heartbeat, drain,
/// status (docs/PROTOCOL.md §5).
extension CoreLoop {
    /// Only this component may register as the node's link service (it sees all cross-node traffic).
    static let linkComponent = "compression"

    func handleControl(_ frame: Frame) {
        let now = Clocks.monotonicMicros()
        var replies: [Frame.Record] = []
        for record in frame.records {
            switch record.type {
            case ControlType.register where record.kind == .request:
                replies.append(register(frame.sender, record, now: now))
            case ControlType.heartbeat:
                let info = JSON.decode(HeartbeatInfo.self, record.payload)
                let known = registry.heartbeat(
                    frame.sender, nowMicros: now, healthy: info?.healthy ?? true, inflight: info?.inflight ?? 0,
                    handled: info?.handled ?? 0, failed: info?.failed ?? 0)
                // An unknown instance is told so (empty payload vs "unknown") and re-registers.
                let payload: [UInt8] = known ? [] : Array("unknown".utf8)
                replies.append(Frame.Record(kind: .message, type: ControlType.heartbeat, payload: payload))
            case ControlType.deregister:
                registry.remove(frame.sender)
                log.info("instance drained", metadata: ["instance": "\(frame.sender)"])
            case ControlType.status where record.kind == .request:
                publishSnapshot(now: now)
                replies.append(
                    Frame.Record(
                        kind: .reply, type: record.type, correlation: record.correlation,
                        payload: JSON.encode(core.status())))
            default:
                if record.kind == .request {
                    let failure = BusFailure(.rejected, "the core has no operation \(record.type)")
                    replies.append(
                        Frame.Record(
                            kind: .errorReply, type: record.type, correlation: record.correlation,
                            payload: failure.encoded()))
                }
            }
        }
        if !replies.isEmpty { sendFromCore(replies, to: frame.sender) }
    }

    private func register(_ sender: Principal, _ record: Frame.Record, now: Int64) -> Frame.Record {
        let settings = core.options.settings
        guard sender.node == node, let request = JSON.decode(RegisterRequest.self, record.payload) else {
            let failure = BusFailure(.rejected, "registration needs a RegisterRequest from a component of node \(node)")
            return Frame.Record(
                kind: .errorReply, type: record.type, correlation: record.correlation, payload: failure.encoded())
        }
        let instance = ServiceRegistry.Instance(
            principal: sender, services: Array(request.services.prefix(16)), pid: request.pid,
            metricsPort: request.metricsPort, isLink: request.link && sender.component == Self.linkComponent,
            registeredMicros: now, lastHeartbeatMicros: now)
        guard registry.register(instance) else {
            let failure = BusFailure(.overloaded, "core holds \(ServiceRegistry.instancesMax) instances")
            return Frame.Record(
                kind: .errorReply, type: record.type, correlation: record.correlation, payload: failure.encoded())
        }
        log.info("instance registered", metadata: ["instance": "\(sender)", "services": "\(request.services)"])
        let reply = RegisterReply(
            node: node, heartbeatIntervalMillis: settings.heartbeatIntervalMillis,
            heartbeatTimeoutMillis: settings.heartbeatTimeoutMillis)
        return Frame.Record(
            kind: .reply, type: record.type, correlation: record.correlation, payload: JSON.encode(reply))
    }
}
