import Foundation

/// Outbound batching, inbound dispatch, timers and registration of the SDK's IO thread.
extension ClientLoop {
    // MARK: outbound

    /// Signs and writes everything queued: consecutive envelopes for one destination share a
    /// frame (up to maxBatchEnvelopes and half of maxFrameBytes), so a lone envelope goes at once
    /// and a backlog goes in batches.
    func flushOutbound() throws(BusError) {
        while let frame = stalled.first {
            guard (try dealer.send([frame])) == .sent else { return }
            stalled.removeFirst()
        }
        let (items, subscriptions) = client.outbound.withLock { q in
            defer { q.pendingSubscriptions.removeAll() }
            return (q.takeAll(), q.pendingSubscriptions)
        }
        for prefix in subscriptions { try sub.set(.subscribe, bytes: Array(prefix.utf8)) }
        try flushRelays()
        guard !items.isEmpty else { return }
        let now = Clocks.monotonicMicros()
        let batchBytesMax = client.options.settings.maxFrameBytes / 2
        var start = 0
        while start < items.count {
            var end = start + 1
            var bytes = items[start].record.encodedBytes
            while end < items.count, end - start < signer.limits.maxBatchEnvelopes,
                items[end].destination == items[start].destination,
                bytes + items[end].record.encodedBytes <= batchBytesMax
            {
                bytes += items[end].record.encodedBytes
                end += 1
            }
            send(Array(items[start..<end]), now: now)
            start = end
        }
    }

    private func send(_ items: [OutboundQueue.Item], now: Int64) {
        var batch: [OutboundQueue.Item] = []
        batch.reserveCapacity(items.count)
        for item in items {
            guard var request = item.pending else {
                batch.append(item)
                continue
            }
            guard pending.count < Self.pendingMax else {
                request.complete(.failure(BusError(.queueFull, "\(Self.pendingMax) requests already await replies")))
                continue  // refused, so not sent either
            }
            request.deadlineMicros = now + request.timeoutMicros
            pending[item.record.correlation] = request
            batch.append(item)
        }
        guard !batch.isEmpty else { return }
        let destination = batch[0].destination
        do {
            let bytes = try signer.sign(batch.map(\.record), to: destination)
            client.counters.envelopesSent.increment(by: batch.count)
            if case .topic(let topic, _) = destination { write(bytes, topic: topic) } else { write(bytes, topic: nil) }
        } catch {
            log.error("cannot build frame: \(error)")
            for item in batch {
                pending.removeValue(forKey: item.record.correlation)?.complete(
                    .failure(BusError(.frameBuild, error.description)))
            }
        }
    }

    // MARK: inbound

    func onTopic(_ parts: [[UInt8]]) {
        guard parts.count == 2, let frame = decode(parts[1]), case .topic(let topic, _) = frame.destination else {
            return
        }
        let targets = client.state.withLock { s in
            s.subscriptions.filter { topic.hasPrefix($0.prefix) }.map(\.continuation)
        }
        for envelope in frame.envelopes {
            for target in targets {
                if case .dropped = target.yield(Delivery(envelope: envelope)) {
                    client.counters.deliveryDropped.increment()
                }
            }
        }
    }

    func onDirected(_ parts: [[UInt8]]) {
        if parts.count == 2 { return onRelayed(parts) }
        guard parts.count == 1, let frame = decode(parts[0]) else { return }
        let fromCore =
            frame.sender.component == Principal.coreComponent && frame.sender.node == client.options.principal.node
        if fromCore { lastHeardFromCoreMicros = Clocks.monotonicMicros() }
        for envelope in frame.envelopes {
            let delivery = Delivery(envelope: envelope)
            switch envelope.kind {
            case .reply, .errorReply: resolve(delivery)
            case .request: handleRequest(delivery)
            case .message:
                if fromCore && envelope.type == ControlType.heartbeat {
                    let unknown = envelope.payload == Array("unknown".utf8)
                    if unknown && client.options.registers && !client.draining.load(ordering: .relaxed) {
                        sendRegistration()
                    }
                } else if case .dropped = client.messageContinuation.yield(delivery) {
                    client.counters.deliveryDropped.increment()
                }
            }
        }
    }

    private func resolve(_ delivery: Delivery) {
        guard let request = pending[delivery.envelope.correlation] else { return }  // late duplicate reply
        if delivery.kind == .errorReply {
            let failure = BusFailure.decode(delivery.payload)
            if failure.isRetryable && request.retriesLeft > 0 {
                // Nobody to serve it yet (an instance restarting): try again after a pause.
                var retry = request
                retry.retriesLeft -= 1
                retry.deadlineMicros = Clocks.monotonicMicros() + min(request.timeoutMicros, 200_000)
                retry.record.payload = request.record.payload
                pending[delivery.envelope.correlation] = retry
                pendingResend.insert(delivery.envelope.correlation)
                return
            }
            pending[delivery.envelope.correlation] = nil
            request.complete(
                .failure(
                    BusError(
                        .failure, "\(request.record.type) to \(request.destination) failed: \(failure.reason)",
                        failure: failure)))
            return
        }
        pending[delivery.envelope.correlation] = nil
        request.complete(.success(delivery))
    }

    // MARK: timers

    func timers() {
        let now = Clocks.monotonicMicros()
        expireRequests(now: now)
        guard client.options.registers else { return }
        if client.draining.load(ordering: .relaxed) && !deregistered {
            deregistered = true
            enqueueControl(Frame.Record(kind: .message, type: ControlType.deregister, payload: []))
        }
        // Register once a handler serves every declared service, so no request finds us unready.
        if !client.isRegistered, !deregistered, now - registrationSentMicros > heartbeatMicros * 2, handlersReady {
            sendRegistration()
        }
        if client.isRegistered, now - lastHeartbeatSentMicros >= heartbeatMicros {
            lastHeartbeatSentMicros = now
            let info = HeartbeatInfo(
                healthy: client.healthy.load(ordering: .relaxed), inflight: client.inflight.load(ordering: .relaxed),
                handled: client.handled.load(ordering: .relaxed), failed: client.failed.load(ordering: .relaxed))
            enqueueControl(Frame.Record(kind: .message, type: ControlType.heartbeat, payload: JSON.encode(info)))
        }
        let silent = now - lastHeardFromCoreMicros > heartbeatTimeoutMicros
        if silent != client.coreLost {
            client.state.withLock { $0.coreLost = silent }
            if silent { log.warning("no word from the core for \(heartbeatTimeoutMicros / 1000) ms") }
        }
    }

    /// Requests past their deadline are sent again with the same id, or fail when out of retries.
    private func expireRequests(now: Int64) {
        let due = pending.filter { $0.value.deadlineMicros <= now }.map(\.key).sorted()
        for correlation in due {
            var request = pending[correlation]!
            let resend = pendingResend.remove(correlation) != nil
            if !resend {
                guard request.retriesLeft > 0 else {
                    pending[correlation] = nil
                    client.counters.timeouts.increment()
                    let failure = BusFailure(.timedOut, "no reply within \(request.timeoutMicros / 1000) ms")
                    request.complete(
                        .failure(
                            BusError(
                                .timedOut, "\(request.record.type) to \(request.destination) timed out",
                                failure: failure)))
                    continue
                }
                request.retriesLeft -= 1
            }
            client.counters.retries.increment()
            request.deadlineMicros = now + request.timeoutMicros
            pending[correlation] = request
            if let bytes = try? signer.sign([request.record], to: request.destination) { write(bytes, topic: nil) }
        }
    }

    private var handlersReady: Bool {
        let installed = client.state.withLock { Set($0.handlers.keys) }
        return client.options.services.allSatisfy { installed.contains($0) }
    }

    func sendRegistration() {
        registrationSentMicros = Clocks.monotonicMicros()
        let o = client.options
        let body = RegisterRequest(services: o.services, pid: Int(getpid()), metricsPort: o.metricsPort, link: o.isLink)
        let correlation = client.nextCorrelation.add(1, ordering: .relaxed).oldValue
        let record = Frame.Record(
            kind: .request, type: ControlType.register, correlation: correlation, payload: JSON.encode(body))
        let client = self.client
        pending[correlation] = PendingRequest(
            destination: .instance(Principal(node: o.principal.node, component: Principal.coreComponent, instance: 0)),
            record: record, timeoutMicros: heartbeatMicros * 2, retriesLeft: 0,
            complete: { result in
                if case .success = result {
                    client.state.withLock { $0.registered = true }
                    client.log.info("registered with core")
                }
            }, deadlineMicros: Clocks.monotonicMicros() + heartbeatMicros * 2)
        enqueueControl(record)
    }
}
