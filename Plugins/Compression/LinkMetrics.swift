import BizraBus
import BizraLink
import Metrics

/// The per-peer Prometheus metrics of a link instance, created once per peer with fixed labels
/// and updated from the peer's counters once a second (the hot path only bumps plain integers).
struct LinkMetrics {
    struct PeerMetrics {
        let rawOut, wireOut, rawIn, wireIn: Counter
        let messagesOut, messagesIn: Counter
        let droppedUnreachable, droppedOverflow, droppedWriteFailed, droppedInFlight, droppedInbound,
            rejectedIn: Counter
        let queueDepth, rtt, ratio, connections: Gauge
        let rawOutRate, wireOutRate, rawInRate, wireInRate: Gauge

        init(peer: String) {
            func bytes(_ direction: String, _ kind: String) -> Counter {
                Counter(
                    label: "bizra_link_bytes_total",
                    dimensions: [("peer", peer), ("direction", direction), ("kind", kind)])
            }
            func rate(_ direction: String, _ kind: String) -> Gauge {
                Gauge(
                    label: "bizra_link_bytes_per_second",
                    dimensions: [("peer", peer), ("direction", direction), ("kind", kind)])
            }
            func dropped(_ reason: String) -> Counter {
                Counter(label: "bizra_link_dropped_messages_total", dimensions: [("peer", peer), ("reason", reason)])
            }
            rawOut = bytes("out", "raw")
            wireOut = bytes("out", "wire")
            rawIn = bytes("in", "raw")
            wireIn = bytes("in", "wire")
            messagesOut = Counter(
                label: "bizra_link_messages_total", dimensions: [("peer", peer), ("direction", "out")])
            messagesIn = Counter(label: "bizra_link_messages_total", dimensions: [("peer", peer), ("direction", "in")])
            droppedUnreachable = dropped("unreachable")
            droppedOverflow = dropped("queue_full")
            droppedWriteFailed = dropped("write_failed")
            droppedInFlight = dropped("in_flight")
            droppedInbound = dropped("core_queue_full")
            rejectedIn = Counter(label: "bizra_link_rejected_link_frames_total", dimensions: [("peer", peer)])
            queueDepth = Gauge(label: "bizra_link_queue_depth_messages", dimensions: [("peer", peer)])
            rtt = Gauge(label: "bizra_link_rtt_seconds", dimensions: [("peer", peer)])
            ratio = Gauge(label: "bizra_link_compression_ratio", dimensions: [("peer", peer)])
            connections = Gauge(label: "bizra_link_connections", dimensions: [("peer", peer)])
            rawOutRate = rate("out", "raw")
            wireOutRate = rate("out", "wire")
            rawInRate = rate("in", "raw")
            wireInRate = rate("in", "wire")
        }

        func update(_ now: LinkStatus.Peer, since before: LinkStatus.Peer) {
            func add(_ counter: Counter, _ a: Int, _ b: Int) { if a > b { counter.increment(by: a - b) } }
            add(rawOut, now.rawBytesOut, before.rawBytesOut)
            add(wireOut, now.wireBytesOut, before.wireBytesOut)
            add(rawIn, now.rawBytesIn, before.rawBytesIn)
            add(wireIn, now.wireBytesIn, before.wireBytesIn)
            add(messagesOut, now.messagesOut, before.messagesOut)
            add(messagesIn, now.messagesIn, before.messagesIn)
            add(droppedUnreachable, now.droppedUnreachable, before.droppedUnreachable)
            add(droppedOverflow, now.droppedOverflow, before.droppedOverflow)
            add(droppedWriteFailed, now.droppedWriteFailed, before.droppedWriteFailed)
            add(droppedInFlight, now.droppedInFlight, before.droppedInFlight)
            add(droppedInbound, now.droppedInbound, before.droppedInbound)
            add(rejectedIn, now.rejectedIn, before.rejectedIn)
            queueDepth.record(now.queueDepth)
            // No connection up, no current RTT: NaN rather than a stale or zero figure.
            rtt.record(now.rttMillis.map { $0 / 1000 } ?? .nan)
            ratio.record(now.compressionRatio)
            connections.record(now.connections)
            rawOutRate.record(now.rawBytesOutPerSecond)
            wireOutRate.record(now.wireBytesOutPerSecond)
            rawInRate.record(now.rawBytesInPerSecond)
            wireInRate.record(now.wireBytesInPerSecond)
        }
    }

    private var peers: [String: PeerMetrics] = [:]
    private var last: [String: LinkStatus.Peer] = [:]

    init(peers: [String]) {
        for peer in peers { self.peers[peer] = PeerMetrics(peer: peer) }
    }

    mutating func update(_ status: LinkStatus) {
        for peer in status.peers {
            peers[peer.node]?.update(peer, since: last[peer.node] ?? LinkStatus.Peer(node: peer.node))
            last[peer.node] = peer
        }
    }
}
