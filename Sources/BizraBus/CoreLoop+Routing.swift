import Foundation

/// Where a verified frame goes: to a local instance, a local service instance, the topic
/// subscribers, the core itself (control messages), or the link service toward another node.
extension CoreLoop {
    func onRouterMessage(_ parts: [[UInt8]]) {
        guard parts.count >= 2 else { return }
        let routingID = parts[0]
        let relayed = parts.count == 3 && parts[1] == Self.relayMarker
        guard parts.count == 2 || relayed else {
            core.counters.rejected(.malformed)
            return
        }
        guard let verified = verify(parts[parts.count - 1]) else { return }
        let sender = verified.parsed.sender
        if relayed {
            // Only the registered link may relay frames from other nodes, and never local ones.
            guard registry.links.contains(where: { registry.routingID($0) == routingID }), sender.node != node else {
                core.counters.dropped(.wrongSocket)
                return
            }
        } else {
            // Topic frames enter a node on the XSUB (or by relay); the ROUTER is for directed frames.
            if case .topic = verified.parsed.destination {
                core.counters.dropped(.wrongSocket)
                return
            }
            registry.learnRoute(sender, id: routingID, nowMicros: Clocks.monotonicMicros())
        }
        route(verified, relayed: relayed)
    }

    func onPublished(_ parts: [[UInt8]]) {
        guard parts.count == 2 else {
            core.counters.rejected(.malformed)
            return
        }
        guard let verified = verify(parts[1]) else { return }
        guard case .topic(let topic, _) = verified.parsed.destination, Array(topic.utf8) == parts[0] else {
            core.counters.dropped(.wrongSocket)
            return
        }
        route(verified, relayed: false)
    }

    private func route(_ verified: FrameVerifier.Verified, relayed: Bool) {
        switch verified.parsed.destination {
        case .topic(let topic, let scope):
            deliverTopic(topic, bytes: verified.parsed.bytes)
            if scope == .cluster && !relayed {
                handToLink(verified.parsed.bytes, verified: verified, target: "the cluster")
            }
        case .instance(let target):
            if target.node == node && target.component == Principal.coreComponent {
                handleControl(verified.frame)
            } else if let id = registry.routingID(target) {
                if sendDirected(id, verified.parsed.bytes) == .unreachable {
                    registry.remove(target)
                    fail(verified, .noInstance, "\(target) is gone")
                }
            } else if target.node == Principal.clientNode && !relayed && registry.link != nil {
                // A client of another node (a reply to its request): the link learned which node
                // the client's frames came from and carries the reply back there.
                handToLink(verified.parsed.bytes, verified: verified, target: "\(target)")
            } else if target.node == node || target.node == Principal.clientNode {
                core.counters.dropped(.noDestination)
                fail(verified, .noInstance, "no instance \(target) on node \(node)")
            } else if !relayed {
                handToLink(verified.parsed.bytes, verified: verified, target: target.node)
            } else {
                // From a peer's link but for a third node: links never forward (no loops).
                core.counters.dropped(.noRoute)
            }
        case .service(let targetNode, let name):
            if targetNode == node || targetNode.isEmpty {
                dispatch(verified.parsed.bytes, verified: verified, service: name)
            } else if !relayed {
                handToLink(verified.parsed.bytes, verified: verified, target: targetNode)
            } else {
                core.counters.dropped(.noRoute)
            }
        }
    }

    /// Sends a service frame to one live instance, trying the next when one proves gone.
    private func dispatch(_ bytes: [UInt8], verified: FrameVerifier.Verified, service: String) {
        var tried: Set<Principal> = []
        let keys = verified.frame.records.filter { $0.kind == .request }.map {
            RequestAffinity.Key(
                sender: verified.parsed.sender, epoch: verified.parsed.epoch, correlation: $0.correlation)
        }
        let sticky = keys.first.flatMap { affinity.instance(for: $0) }.flatMap { registry.isHealthy($0) ? $0 : nil }
        while let pick = sticky.flatMap({ tried.contains($0) ? nil : $0 })
            ?? registry.pick(service: service, skip: tried)
        {
            tried.insert(pick)
            guard let id = registry.routingID(pick) else {
                registry.remove(pick)
                continue
            }
            switch sendDirected(id, bytes) {
            case .sent:
                for key in keys { affinity.remember(key, instance: pick) }
                return
            case .wouldBlock: continue
            case .unreachable:
                log.info("instance unreachable; deregistered", metadata: ["instance": "\(pick)"])
                registry.remove(pick)
            }
        }
        core.counters.dropped(.noDestination)
        fail(verified, .noService, "no live instance of service \(service) on node \(node)")
    }

    private func handToLink(_ bytes: [UInt8], verified: FrameVerifier.Verified, target: String) {
        if let link = registry.link(for: target), let id = registry.routingID(link),
            sendDirected(id, Self.relayMarker, bytes) == .sent
        {
            return
        }
        core.counters.dropped(.noRoute)
        fail(verified, .noRoute, "no route to \(target): no link service on node \(node)")
    }

    func deliverTopic(_ topic: String, bytes: [UInt8]) {
        switch (try? xpub.send([Array(topic.utf8), bytes])) ?? .wouldBlock {
        case .sent: core.counters.sent()
        case .wouldBlock, .unreachable: core.counters.dropped(.queueFull)
        }
    }

    @discardableResult
    func sendDirected(_ id: [UInt8], _ parts: [UInt8]...) -> ZMQSocket.SendResult {
        let result = (try? router.send([id] + parts)) ?? .unreachable
        switch result {
        case .sent: core.counters.sent()
        case .wouldBlock: core.counters.dropped(.queueFull)
        case .unreachable: break
        }
        return result
    }

    /// Answers every request in the frame with an error reply from this core.
    func fail(_ verified: FrameVerifier.Verified, _ code: BusFailure.Code, _ reason: String) {
        let frame = verified.frame
        let requests = frame.records.filter { $0.kind == .request }
        guard !requests.isEmpty else { return }
        let failure = BusFailure(code, reason).encoded()
        let records = requests.map {
            Frame.Record(kind: .errorReply, type: $0.type, correlation: $0.correlation, payload: failure)
        }
        sendFromCore(records, to: frame.sender)
    }

    /// Signs and routes records from the core to `target` (a local instance or client).
    func sendFromCore(_ records: [Frame.Record], to target: Principal) {
        guard let id = registry.routingID(target) else { return }
        for chunk in stride(from: 0, to: records.count, by: verifier.limits.maxBatchEnvelopes) {
            let slice = Array(records[chunk..<min(chunk + verifier.limits.maxBatchEnvelopes, records.count)])
            guard let bytes = try? signer.sign(slice, to: .instance(target)) else { continue }
            sendDirected(id, bytes)
        }
    }
}
