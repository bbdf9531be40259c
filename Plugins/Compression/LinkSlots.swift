import BizraBus
import BizraLink

/// The node-wide slots of the link pool (§9.1 of docs/PROTOCOL.md): slot `k` of peer `P` is the
/// file `<data>/data/<node>/compression/link-slots/<P>.<k>`, held with an exclusive lock
/// (`SlotLock`) by the one connection that uses it, whichever link instance of the node owns
/// that connection. With `poolSize` files per peer, the node never holds more than `poolSize`
/// connections to a peer — while instances are added or removed, and after a crash (the kernel
/// drops a dead process's locks). `<P>.waiting` carries shared marks of dialers waiting for one
/// of `P`'s slots, so that holders yield (`LinkPoolPolicy`).
///
/// The directory is per node, so that nodes sharing one data directory (tests, one-host
/// clusters) do not share slots.
struct LinkSlots: Sendable {
    let directory: String
    let poolSize: Int

    init(directory: String, poolSize: Int) throws {
        self.directory = directory
        self.poolSize = poolSize
        try DataDirectory.makeDirectory(directory)
    }

    /// One dialer's handles on a peer's slot files. Each dialer MUST have its own: a lock
    /// belongs to the handle's open file description, so two dialers sharing one handle would
    /// both believe they hold the slot.
    struct Peer: Sendable {
        let slots: [SlotLock]
        let waiting: SlotLock
    }

    func handles(peer: String) -> Peer {
        Peer(
            slots: (0..<poolSize).map { SlotLock(path: path(peer: peer, slot: $0)) },
            waiting: SlotLock(path: "\(directory)/\(peer).waiting"))
    }

    /// How many of the peer's slots the node's link instances hold now (without taking any).
    func held(peer: String) -> Int {
        (0..<poolSize).filter { SlotLock.isHeld(path: path(peer: peer, slot: $0)) }.count
    }

    private func path(peer: String, slot: Int) -> String { "\(directory)/\(peer).\(slot)" }
}
