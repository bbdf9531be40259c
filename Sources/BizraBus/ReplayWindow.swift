/// Replay protection for one sender stream: the newest sequence number seen in the current boot
/// epoch and a sliding bitmap of the `size` numbers below it (the anti-replay window of RFC 4303
/// §3.4.3, extended with epochs).
///
/// A sender that restarts picks a larger epoch (its boot time in microseconds), which resets the
/// window; a frame from an older epoch is a replay. Frames older than the window are `tooOld`.
struct ReplayWindow: Sendable {
    private(set) var epoch: UInt64
    private(set) var highest: UInt64
    private var bits: [UInt64]
    let size: Int

    init(epoch: UInt64, size: Int) {
        precondition(size >= 64 && size % 64 == 0, "replay window size must be a positive multiple of 64, got \(size)")
        self.epoch = epoch
        self.highest = 0
        self.bits = [UInt64](repeating: 0, count: size / 64)
        self.size = size
    }

    /// Outcome of offering a frame's sequence range.
    enum Verdict: Equatable {
        /// Accepted; `gap` sequence numbers between the previous highest and this frame were never seen.
        case accept(gap: UInt64)
        case replay(String)
        case tooOld(String)
    }

    /// Checks `first...last` in `epoch` and, when every number is new, records them.
    mutating func offer(epoch frameEpoch: UInt64, first: UInt64, last: UInt64) -> Verdict {
        if frameEpoch < epoch { return .replay("epoch \(frameEpoch) precedes the sender's current epoch \(epoch)") }
        if frameEpoch > epoch { self = ReplayWindow(epoch: frameEpoch, size: size) }
        guard first >= 1, last >= first else { return .replay("sequence numbers start at 1") }
        for seq in first...last {
            if seq > highest { continue }
            if highest - seq >= UInt64(size) {
                return .tooOld("sequence \(seq) is behind the window (newest \(highest))")
            }
            if isMarked(seq) { return .replay("sequence \(seq) was already accepted") }
        }
        let gap = first > highest ? first - highest - 1 : 0
        for seq in first...last { mark(seq) }
        return .accept(gap: gap)
    }

    private func isMarked(_ seq: UInt64) -> Bool {
        let slot = Int(seq % UInt64(size))
        return bits[slot / 64] & (1 << UInt64(slot % 64)) != 0
    }

    private mutating func mark(_ seq: UInt64) {
        if seq > highest {
            // Clear the slots of the numbers that slide out as the window advances.
            let advance = seq - highest
            if advance >= UInt64(size) {
                for i in bits.indices { bits[i] = 0 }
            } else {
                // A closed range, not `clear += 1`: that would overflow after seq == UInt64.max.
                for clear in (highest + 1)...seq {
                    let slot = Int(clear % UInt64(size))
                    bits[slot / 64] &= ~(1 << UInt64(slot % 64))
                }
            }
            highest = seq
        }
        let slot = Int(seq % UInt64(size))
        bits[slot / 64] |= 1 << UInt64(slot % 64)
    }
}

/// Replay windows for every sender stream a core has heard from, bounded by `maxSenders`.
///
/// Each sender has two streams with their own sequence numbers: directed frames and topic frames
/// (they travel different sockets, so only within one stream does order hold). A window may be
/// forgotten only once its sender has been silent for longer than the clock-skew bound, because
/// from then on the timestamp check alone refuses its old frames; when the table is full of live
/// senders a new one is refused (`overloaded`) rather than weakening the guarantee.
struct ReplayTable: Sendable {
    struct Key: Hashable {
        var sender: Principal
        var topicStream: Bool
    }

    private var windows: [Key: (window: ReplayWindow, lastSeenMicros: Int64)] = [:]
    let windowSize: Int
    let maxSenders: Int
    let forgetAfterMicros: Int64

    init(windowSize: Int, maxSenders: Int, forgetAfterMicros: Int64) {
        self.windowSize = windowSize
        self.maxSenders = maxSenders
        self.forgetAfterMicros = forgetAfterMicros
    }

    var count: Int { windows.count }

    mutating func offer(_ frame: ParsedFrame, nowMicros: Int64) -> ReplayWindow.Verdict? {
        var isTopic = false
        if case .topic = frame.destination { isTopic = true }
        let key = Key(sender: frame.sender, topicStream: isTopic)
        if let existing = windows[key], nowMicros - existing.lastSeenMicros > forgetAfterMicros {
            // Silent past the skew bound: its old frames are refused by timestamp, so the window
            // can start afresh (this also lets a sender whose clock stepped back resume).
            windows[key] = nil
        }
        if windows[key] == nil {
            guard windows.count < maxSenders || evictIdle(nowMicros: nowMicros) else { return nil }
            windows[key] = (ReplayWindow(epoch: frame.epoch, size: windowSize), nowMicros)
        }
        let verdict = windows[key]!.window.offer(
            epoch: frame.epoch, first: frame.firstSequence, last: frame.lastSequence)
        if case .accept = verdict { windows[key]!.lastSeenMicros = nowMicros }
        return verdict
    }

    /// Forgets every window idle past the skew bound; true when at least one was forgotten.
    private mutating func evictIdle(nowMicros: Int64) -> Bool {
        let before = windows.count
        windows = windows.filter { nowMicros - $0.value.lastSeenMicros <= forgetAfterMicros }
        return windows.count < before
    }
}
