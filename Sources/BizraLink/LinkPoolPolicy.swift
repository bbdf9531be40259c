/// When a link instance opens and closes its pooled connections to one peer (docs/PROTOCOL.md
/// §9.1). Pure: the shell passes what it observed (queue depth, connections up, how long a
/// connection has been idle or contended) and performs the decision.
///
/// The pool bound `poolSize` holds per node, not per instance: every connection to a peer holds
/// one of the node's `poolSize` slots for that peer (a node-wide lock, `SlotLock`). Connections
/// are opened on demand and closed when idle, so that the instance the core currently hands a
/// peer's frames to can take a slot:
///
/// - dialer 0 of an instance dials when frames are queued for the peer (or, after a failed dial,
///   while frames keep arriving: reconnection with back-off);
/// - dialer `k ≥ 1` dials only when the `k` connections before it are up and a backlog of at
///   least `backlogFramesMin` frames waits — one connection carries light traffic, so a second
///   instance sending to the same peer (cluster-scope topics and node traffic are sharded
///   separately) finds a free slot;
/// - a connection closes after `idleCloseMillis` without a batch, or — when another dialer of the
///   node waits for one of this peer's slots — after `yieldIdleMillis` without a batch, or after
///   `contendedHoldMaxMillis` of continuous contention even when busy (no instance starves).
public struct LinkPoolPolicy: Sendable, Equatable {
    /// Connections per peer for the whole node (bus-config `link: poolSize`).
    public var poolSize: Int
    /// A connection that carried no batch for this long closes and releases its slot.
    public static let idleCloseMillis: Int64 = 30_000
    /// With another dialer waiting for a slot: close after this long without a batch.
    public static let yieldIdleMillis: Int64 = 1000
    /// With another dialer waiting for a slot this long, close even when busy.
    public static let contendedHoldMaxMillis: Int64 = 5000
    /// Frames queued before an instance opens a further connection to the same peer.
    public static let backlogFramesMin = 64
    /// After yielding a slot, a dialer waits this long before asking for one again (waiters poll
    /// every `slotPollMillis`, so the one that asked gets it first).
    public static let yieldCooldownMillis: Int64 = 500
    /// How often a dialer retries the slots while they are all held.
    public static let slotPollMillis: Int64 = 200

    public init(poolSize: Int) {
        precondition(poolSize >= 1, "a pool holds at least one connection, not \(poolSize)")
        self.poolSize = poolSize
    }

    /// Whether dialer `index` (0-based) of this instance should hold a connection to the peer.
    /// `retrying`: a dial failed and frames arrived since (within `idleCloseMillis`).
    public func shouldDial(index: Int, queuedFrames: Int, connections: Int, retrying: Bool) -> Bool {
        precondition(index >= 0 && index < poolSize, "dialer \(index) outside a pool of \(poolSize)")
        if index == 0 { return queuedFrames > 0 || retrying }
        return connections >= index && queuedFrames >= Self.backlogFramesMin
    }

    /// Why an open connection should close now, or nil to keep it.
    public enum Close: String, Sendable, Equatable {
        /// No batch for `idleCloseMillis`.
        case idle
        /// Another dialer of the node waits for a slot of this peer.
        case yield
    }

    /// `idleMillis`: since the connection last wrote a batch (or opened). `contendedMillis`:
    /// since a waiter for this peer's slots was first seen without a break, nil when none waits.
    public func shouldClose(idleMillis: Int64, contendedMillis: Int64?) -> Close? {
        if idleMillis >= Self.idleCloseMillis { return .idle }
        guard let contendedMillis else { return nil }
        if idleMillis >= Self.yieldIdleMillis || contendedMillis >= Self.contendedHoldMaxMillis { return .yield }
        return nil
    }

    /// The order in which dialer `index` tries the node's slots: its own first, so that the
    /// dialers of one instance rarely collide.
    public func slotOrder(index: Int) -> [Int] { (0..<poolSize).map { (index + $0) % poolSize } }
}
