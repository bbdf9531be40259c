import Metrics
import Synchronization

/// The link service's side of the relay hand-off (docs/PROTOCOL.md §6): the core hands the
/// registered link every frame bound for another node as `[relay, frame]` on its DEALER, and
/// the link injects frames that arrived from a peer node the same way. The core verifies an
/// injected frame like any frame entering the node and never hands it back to a link, so a
/// frame crosses at most one link hop and cannot loop.
///
/// Frames are opaque here: the link carries the originator's signed bytes unchanged.
extension BusClient {
    /// The marker part in front of a relayed frame.
    public static let relayMarker: [UInt8] = Array("relay".utf8)

    /// Calls `handler` on the IO thread with every frame the core hands this link. The handler
    /// MUST return quickly (queue the frame and return). Call before `start()`.
    public func onRelay(_ handler: @escaping @Sendable ([UInt8]) -> Void) {
        relayState.withLock { $0.handler = handler }
    }

    /// Queues a frame from a peer node for injection into this node's core. False (and counted
    /// as `bizra_sdk_outbound_dropped_total{reason="relay_full"}`) when the bounded queue is full.
    @discardableResult
    public func relay(_ frame: [UInt8]) -> Bool {
        let (accepted, wasEmpty) = relayState.withLock { s -> (Bool, Bool) in
            guard s.outbound.count < options.settings.queueLimit, !s.closed else { return (false, false) }
            s.outbound.append(frame)
            return (true, s.outbound.count == 1)
        }
        guard accepted else {
            RelayCounters.shared.full.increment()
            return false
        }
        if wasEmpty { wakeup.signal() }
        return true
    }
}

/// Relay traffic between the IO thread and the link component.
struct RelayState {
    var handler: (@Sendable ([UInt8]) -> Void)?
    var outbound: [[UInt8]] = []
    var closed = false
}

struct RelayCounters: Sendable {
    static let shared = RelayCounters()
    let full = Counter(label: "bizra_sdk_outbound_dropped_total", dimensions: [("reason", "relay_full")])
    let socketFull = Counter(label: "bizra_sdk_outbound_dropped_total", dimensions: [("reason", "relay_socket_full")])
    let noHandler = Counter(label: "bizra_sdk_inbound_dropped_total", dimensions: [("reason", "relay_no_handler")])
}

extension ClientLoop {
    /// Hands a `[relay, frame]` message from the core to the link's handler.
    func onRelayed(_ parts: [[UInt8]]) {
        guard parts.count == 2, parts[0] == BusClient.relayMarker else { return }
        guard let handler = client.relayState.withLock({ $0.handler }) else {
            RelayCounters.shared.noHandler.increment()  // registered as link before onRelay was set
            return
        }
        handler(parts[1])
    }

    /// Writes queued injections to the core. At most once: a frame the DEALER will not take
    /// now is dropped and counted, not retried.
    func flushRelays() throws(BusError) {
        let frames = client.relayState.withLock { s -> [[UInt8]] in
            defer { s.outbound.removeAll(keepingCapacity: true) }
            return s.outbound
        }
        for frame in frames where (try dealer.send([BusClient.relayMarker, frame])) != .sent {
            RelayCounters.shared.socketFull.increment()
        }
    }
}
