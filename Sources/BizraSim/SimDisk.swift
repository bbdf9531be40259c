/// One node's simulated disk: an append-only record log with fsync-ordered completions.
///
/// A persist starts a write; it becomes durable when its completion event fires (writes
/// complete in the order started, like one fsync'd WAL). A crash keeps every durable record and,
/// of the writes still in flight, a random prefix (the page cache may have flushed them); the
/// last kept one may be torn, in which case the storage layer drops it (a CRC mismatch) and tells
/// the node. This is the failure model of "All File Systems Are Not Created Equal" (Pillai et
/// al., OSDI 2014) reduced to one append-only file.
package struct SimDisk<Record> {
    package private(set) var durable: [Record] = []
    /// Writes started and not yet durable are `inFlight[inFlightHead...]`.
    private var inFlight: [(record: Record, token: UInt64)] = []
    private var inFlightHead = 0
    /// Virtual time at which the last in-flight write completes; the next one completes after it.
    package var lastCompletion: SimTime = 0

    package init() {}

    package var recordCount: Int { durable.count + inFlightCount }

    package var inFlightCount: Int { inFlight.count - inFlightHead }

    package mutating func start(_ record: Record, token: UInt64) {
        inFlight.append((record, token))
    }

    /// Completes the oldest in-flight write and returns its token.
    package mutating func completeOldest() -> UInt64? {
        guard inFlightHead < inFlight.count else { return nil }
        let write = inFlight[inFlightHead]
        inFlightHead += 1
        if inFlightHead == inFlight.count {
            inFlight.removeAll(keepingCapacity: true)
            inFlightHead = 0
        }
        durable.append(write.record)
        return write.token
    }

    /// Applies a crash: `keep` in-flight writes reach the disk, the last of them torn if `tearLast`.
    package mutating func crash(keep: Int, tearLast: Bool) -> RecoveredDisk<Record> {
        let kept = min(keep, inFlightCount)
        for index in 0..<kept where !(tearLast && index == kept - 1) {
            durable.append(inFlight[inFlightHead + index].record)
        }
        inFlight.removeAll()
        inFlightHead = 0
        lastCompletion = 0
        return RecoveredDisk(records: durable, tornTailDropped: tearLast && kept > 0)
    }
}
