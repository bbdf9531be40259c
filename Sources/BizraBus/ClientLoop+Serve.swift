import Foundation

/// The service side of request/reply: dispatch to handlers, deduplicate retried requests,
/// bound concurrency, and queue replies.
extension ClientLoop {
    func handleRequest(_ delivery: Delivery) {
        let envelope = delivery.envelope
        let key = DedupeCache.Key(sender: envelope.sender, epoch: envelope.epoch, correlation: envelope.correlation)
        let replyTo = Destination.instance(envelope.sender)
        switch client.dedupe.withLock({ $0.lookup(key) }) {
        case .inProgress?:
            client.counters.duplicates.increment()
            return
        case .done(let records)?:
            client.counters.duplicates.increment()
            for record in records { try? client.enqueue(replyTo, record) }
            return
        case nil: break
        }
        let service = serviceName(for: envelope)
        guard let handler = client.state.withLock({ $0.handlers[service] }) else {
            reply(
                to: replyTo, key: key, envelope,
                failure: BusFailure(.noService, "\(client.options.principal) does not serve \(service) (yet)"))
            return
        }
        guard client.inflight.load(ordering: .relaxed) < Self.handlersInflightMax else {
            reply(
                to: replyTo, key: nil, envelope,
                failure: BusFailure(.overloaded, "\(Self.handlersInflightMax) requests in flight"))
            return
        }
        client.dedupe.withLock { $0.begin(key) }
        client.inflight.add(1, ordering: .relaxed)
        let client = self.client
        Task {
            let record: Frame.Record
            do {
                let payload = try await handler(delivery)
                record = Frame.Record(
                    kind: .reply, type: envelope.type, correlation: envelope.correlation, payload: payload)
                client.handled.add(1, ordering: .relaxed)
            } catch {
                let failure = (error as? BusFailure) ?? BusFailure(.handlerFailed, "\(error)")
                record = Frame.Record(
                    kind: .errorReply, type: envelope.type, correlation: envelope.correlation,
                    payload: failure.encoded())
                client.failed.add(1, ordering: .relaxed)
            }
            client.dedupe.withLock { $0.finish(key, reply: [record]) }
            client.inflight.add(-1, ordering: .relaxed)
            try? client.enqueue(replyTo, record)
        }
    }

    /// The service a request is for: the service it was addressed to, or for a request sent to
    /// this instance directly, the part of its type before the first dot (`worker.work` → `worker`).
    private func serviceName(for envelope: Envelope) -> String {
        if case .service(_, let name) = envelope.destination { return name }
        return String(envelope.type.split(separator: ".", maxSplits: 1).first ?? "")
    }

    private func reply(to destination: Destination, key: DedupeCache.Key?, _ envelope: Envelope, failure: BusFailure) {
        let record = Frame.Record(
            kind: .errorReply, type: envelope.type, correlation: envelope.correlation, payload: failure.encoded())
        try? client.enqueue(destination, record)
    }
}
