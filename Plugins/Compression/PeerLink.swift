import BizraBus
import BizraConfig
import BizraLink
import Foundation

/// Everything one link instance knows about one peer node: the bounded queue of frames bound
/// for it, how many pooled connections are up, whether the last dial failed, and the peer's
/// bandwidth counters. Shared by the core's relay callback (which enqueues), the pool's dialer
/// threads (which wait for demand and take batches) and the inbound readers (which count what
/// arrives); one lock guards it all.
final class PeerLink: @unchecked Sendable {
    let node: NodeConfig
    private let condition = NSCondition()
    private var queue: LinkSendQueue
    private var stats = LinkPeerStats()
    private var connections = 0
    private var rttMicros: Int64 = -1
    private var stopping = false
    /// The last dial failed and no connection is up: new frames are dropped (unreachable).
    private var unreachable = false
    /// When a frame last arrived while the peer was unreachable (monotonic ms): dialers retry
    /// while this is recent (`LinkPoolPolicy.idleCloseMillis`).
    private var demandWhileUnreachableMillis: Int64 = 0

    /// Per peer: frames and bytes waiting; past either, new frames are dropped and counted.
    static let queueFramesMax = 16_384
    static let queueBytesMax = 32 << 20

    init(node: NodeConfig) {
        self.node = node
        queue = LinkSendQueue(framesMax: Self.queueFramesMax, bytesMax: Self.queueBytesMax)
    }

    private func locked<T>(_ body: () -> T) -> T {
        condition.lock()
        defer { condition.unlock() }
        return body()
    }

    /// Queues a frame for the peer; a dialer opens a connection for it if none is up (§9.1).
    /// At most once: while the peer is known unreachable (the last dial failed, no connection up)
    /// the frame is dropped and counted rather than kept to be sent later.
    func enqueue(_ frame: [UInt8]) {
        locked {
            guard !unreachable || connections > 0 else {
                stats.droppedUnreachable += 1
                demandWhileUnreachableMillis = Self.nowMillis()
                return
            }
            if queue.push(frame) {
                condition.broadcast()
            } else {
                stats.droppedOverflow += 1
            }
        }
    }

    /// Blocks until dialer `index` should hold a connection (per `policy`), or returns false
    /// when the link stops. Wakes at least every `wakeMillis` so that it notices stopping.
    func awaitDemand(index: Int, policy: LinkPoolPolicy) -> Bool {
        locked {
            while !stopping {
                if policy.shouldDial(
                    index: index, queuedFrames: queue.depth, connections: connections, retrying: retrying)
                {
                    return true
                }
                _ = condition.wait(until: Date().addingTimeInterval(Double(Self.wakeMillis) / 1000))
            }
            return false
        }
    }

    /// Whether dialer `index` still has a reason to connect (checked while it waits for a slot).
    func wantsConnection(index: Int, policy: LinkPoolPolicy) -> Bool {
        locked {
            !stopping
                && policy.shouldDial(
                    index: index, queuedFrames: queue.depth, connections: connections, retrying: retrying)
        }
    }

    /// Unreachable, and frames arrived for the peer within the idle bound: keep dialing (with
    /// back-off) so that it is found again; past the bound, stop until new demand. Both
    /// `awaitDemand` and `wantsConnection` use it. Call with the lock held.
    private var retrying: Bool {
        unreachable && Self.nowMillis() - demandWhileUnreachableMillis < LinkPoolPolicy.idleCloseMillis
    }

    /// A dial failed (no peer instance accepted, or the handshake failed). With no connection
    /// up the peer is unreachable: what is queued is dropped and counted, and so is what arrives
    /// until a dial succeeds.
    func dialFailed() {
        locked {
            guard connections == 0 else { return }
            if !unreachable { demandWhileUnreachableMillis = Self.nowMillis() }
            unreachable = true
            stats.droppedUnreachable += queue.removeAll()
        }
    }

    static let wakeMillis = 200

    static func nowMillis() -> Int64 { Clocks.monotonicMicros() / 1000 }

    /// Waits until frames are queued, `deadline` passes, or `stop()`/`abandon()` ask the caller
    /// to end. Returns the next batch (possibly empty at the deadline) and whether frames remain
    /// behind it; nil when the caller must stop.
    func nextBatch(until deadline: Date, framesMax: Int, bytesMax: Int, abandon: () -> Bool)
        -> (frames: [[UInt8]], backlogged: Bool)?
    {
        locked {
            while queue.isEmpty && !stopping && !abandon() && Date() < deadline {
                _ = condition.wait(until: min(deadline, Date().addingTimeInterval(0.2)))
            }
            if stopping || abandon() { return nil }
            let frames = queue.takeBatch(framesMax: framesMax, bytesMax: bytesMax)
            return (frames, frames.count > 1 || !queue.isEmpty)
        }
    }

    func connectionUp() {
        locked {
            connections += 1
            unreachable = false
            condition.broadcast()
        }
    }

    /// What is still queued when the last connection goes stays queued: a dialer connects again
    /// at once, and drops it (counted unreachable) if that dial fails. The RTT is forgotten:
    /// with no connection up there is no current round-trip time to report (§9.9).
    func connectionDown() {
        locked {
            connections -= 1
            if connections == 0 { rttMicros = -1 }
        }
    }

    func stop() {
        locked {
            stopping = true
            condition.broadcast()
        }
    }

    /// A batch written; `sealedOverhead` is what encryption added around it (CurveZMQ MESSAGE).
    func record(sent batch: LinkEncoder.EncodedBatch, sealedOverhead: Int = 0) {
        locked {
            stats.rawBytesOut += batch.rawBytes
            stats.wireBytesOut += batch.bytes.count + sealedOverhead
            stats.batchWireBytesOut += batch.bytes.count + sealedOverhead
            stats.messagesOut += batch.frames
            stats.batchesOut += 1
            stats.batchesOutByCodec[Int(batch.codec.rawValue)] += 1
        }
    }

    func record(control bytes: Int) { locked { stats.wireBytesOut += bytes } }

    func record(received frames: Int, rawBytes: Int, wireBytes: Int, dropped: Int) {
        locked {
            stats.rawBytesIn += rawBytes
            stats.wireBytesIn += wireBytes
            stats.messagesIn += frames
            stats.batchesIn += 1
            stats.droppedInbound += dropped
        }
    }

    func record(controlIn bytes: Int) { locked { stats.wireBytesIn += bytes } }
    func recordWriteFailed(frames: Int) { locked { stats.droppedWriteFailed += frames } }
    func recordLostInFlight(frames: Int) { locked { stats.droppedInFlight += frames } }
    func recordRejected() { locked { stats.rejectedIn += 1 } }
    func record(rttMicros sample: Int64) {
        locked { rttMicros = rttMicros < 0 ? sample : (rttMicros * 7 + sample) / 8 }
    }

    struct Snapshot {
        var stats: LinkPeerStats
        var queueDepth: Int
        var connections: Int
        var rttMicros: Int64
    }

    func snapshot() -> Snapshot {
        locked { Snapshot(stats: stats, queueDepth: queue.depth, connections: connections, rttMicros: rttMicros) }
    }
}
