import BizraConfig
import BizraLink
import Foundation

/// Everything one link instance knows about one peer node: the bounded queue of frames bound
/// for it, how many pooled connections are up, and the peer's bandwidth counters. Shared by the
/// core's relay callback (which enqueues), the pool's writer threads (which take batches) and
/// the inbound readers (which count what arrives); one lock guards it all.
final class PeerLink: @unchecked Sendable {
    let node: NodeConfig
    private let condition = NSCondition()
    private var queue: LinkSendQueue
    private var stats = LinkPeerStats()
    private var connections = 0
    private var rttMicros: Int64 = -1
    private var stopping = false

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

    /// Queues a frame for the peer. At most once: with no connection up the frame is dropped
    /// (counted as unreachable) rather than kept to be sent later.
    func enqueue(_ frame: [UInt8]) {
        locked {
            guard connections > 0 else {
                stats.droppedUnreachable += 1
                return
            }
            if queue.push(frame) {
                condition.signal()
            } else {
                stats.droppedOverflow += 1
            }
        }
    }

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

    func connectionUp() { locked { connections += 1 } }

    /// When the last connection goes, what is still queued is dropped and counted.
    func connectionDown() {
        locked {
            connections -= 1
            if connections == 0 { stats.droppedUnreachable += queue.removeAll() }
        }
    }

    func stop() {
        locked {
            stopping = true
            condition.broadcast()
        }
    }

    func record(sent batch: LinkEncoder.EncodedBatch) {
        locked {
            stats.rawBytesOut += batch.rawBytes
            stats.wireBytesOut += batch.bytes.count
            stats.batchWireBytesOut += batch.bytes.count
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
