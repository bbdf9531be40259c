/// The bounded queue of bus frames waiting for one peer, and how batches are taken from it.
///
/// Batching only under backlog: a writer takes whatever is queued when it is free to write, so
/// an idle link sends a lone frame at once (no timer, no added latency) and a link that falls
/// behind sends what piled up during the previous write as one batch. Overflow is refused and
/// counted, never grown.
public struct LinkSendQueue: Sendable {
    public let framesMax: Int
    public let bytesMax: Int
    private var frames: [[UInt8]] = []
    private var head = 0
    public private(set) var bytes = 0
    /// Frames refused because the queue was full.
    public private(set) var overflowed = 0

    public init(framesMax: Int, bytesMax: Int) {
        precondition(framesMax > 0 && bytesMax > 0, "a send queue needs positive limits")
        self.framesMax = framesMax
        self.bytesMax = bytesMax
    }

    public var depth: Int { frames.count - head }
    public var isEmpty: Bool { depth == 0 }

    /// Queues `frame`; false (and counted) when the queue is full.
    public mutating func push(_ frame: [UInt8]) -> Bool {
        guard depth < framesMax, bytes + frame.count <= bytesMax else {
            overflowed += 1
            return false
        }
        frames.append(frame)
        bytes += frame.count
        return true
    }

    /// The oldest frames, at least one when any is queued, up to `framesMax` frames and
    /// `bytesMax` bytes of block (a single larger frame still goes, alone).
    public mutating func takeBatch(framesMax: Int, bytesMax: Int) -> [[UInt8]] {
        guard !isEmpty else { return [] }
        var end = head + 1
        var taken = 2 + 4 + frames[head].count
        while end < frames.count, end - head < framesMax, taken + 4 + frames[end].count <= bytesMax {
            taken += 4 + frames[end].count
            end += 1
        }
        let batch = Array(frames[head..<end])
        for frame in batch { bytes -= frame.count }
        head = end
        compact()
        return batch
    }

    /// Empties the queue, returning how many frames were dropped.
    public mutating func removeAll() -> Int {
        let dropped = depth
        frames.removeAll(keepingCapacity: true)
        head = 0
        bytes = 0
        return dropped
    }

    private mutating func compact() {
        if head == frames.count {
            frames.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024 && head * 2 > frames.count {
            frames.removeSubrange(0..<head)
            head = 0
        }
    }
}
