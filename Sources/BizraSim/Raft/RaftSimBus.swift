import BizraRaft

extension RaftSim {
    /// A Raft message as the bus carries it: numbered per (sender incarnation, receiver), so the
    /// receiver can refuse replays, as the real bus does ("replays are rejected per (sender,
    /// boot epoch)", DESIGN.md "Trust").
    ///
    /// Why the simulation needs it: the core relies on at-most-once delivery. A forwarded
    /// proposal that arrives twice can be appended from one copy and refused in the other, and
    /// the refusal then reports the proposal `dropped` although it commits (seed 419 of the raft
    /// scenario, before this envelope existed). The simulated network still duplicates, delays
    /// and reorders; this layer turns a duplicate into a loss, as the bus does.
    package struct Envelope: Sendable, CustomStringConvertible {
        package var message: Raft.Message
        package var incarnation: UInt32
        package var sequence: UInt64

        package var description: String { "#\(incarnation).\(sequence) \(message)" }
    }

    /// The receiving side of the bus's replay protection, for one sender: the newest sender
    /// incarnation seen, and which of the last `windowSize` sequences arrived. Anything older
    /// than the window, or from an older incarnation, is refused (lost, as far as Raft knows).
    ///
    /// Gap, shared with the real bus only if its clocks are badly off: the window is volatile,
    /// so a copy of a message that was accepted before the receiver restarted is accepted
    /// again (the real bus refuses frames older than its start).
    package struct ReplayWindow: Sendable {
        package static let windowSize: UInt64 = 1_024
        var incarnation: UInt32 = 0
        var highest: UInt64 = 0
        var seen = [UInt64](repeating: 0, count: Int(windowSize / 64))

        package init() {}

        /// Whether the message is new; records it if so.
        package mutating func admit(incarnation sender: UInt32, sequence: UInt64) -> Bool {
            if sender < incarnation { return false }
            if sender > incarnation {
                incarnation = sender
                highest = 0
                for word in seen.indices { seen[word] = 0 }
            }
            if sequence > highest {
                // Clear the slots the window slides past, then take the new highest.
                let advance = min(sequence - highest, Self.windowSize)
                for step in 1...advance { clear(highest &+ step) }
                highest = sequence
            } else if highest - sequence >= Self.windowSize || isSet(sequence) {
                return false
            }
            set(sequence)
            return true
        }

        private func isSet(_ sequence: UInt64) -> Bool {
            let slot = sequence % Self.windowSize
            return seen[Int(slot / 64)] & (1 << (slot % 64)) != 0
        }

        private mutating func set(_ sequence: UInt64) {
            let slot = sequence % Self.windowSize
            seen[Int(slot / 64)] |= 1 << (slot % 64)
        }

        private mutating func clear(_ sequence: UInt64) {
            let slot = sequence % Self.windowSize
            seen[Int(slot / 64)] &= ~(1 << (slot % 64))
        }
    }
}
