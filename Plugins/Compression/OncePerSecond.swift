import Dispatch
import Synchronization

/// Lets through at most one event per monotonic second, from any thread: the link's log lines
/// that anyone who can reach its port could otherwise cause in a flood. (The core's
/// `RateLimitedLog` does the same for one thread and per key.)
final class OncePerSecond: Sendable {
    private let lastSecond = Atomic<UInt64>(0)

    /// True for the first call in each second.
    func allow() -> Bool {
        let second = DispatchTime.now().uptimeNanoseconds / 1_000_000_000 + 1
        return lastSecond.exchange(second, ordering: .relaxed) != second
    }
}
