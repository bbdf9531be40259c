/// Which instance a recent request was dispatched to, so that a retry (same sender, epoch and
/// request id) reaches the same instance and its deduplication cache, instead of running again
/// on the next instance in round-robin order. Bounded FIFO of `entriesMax` requests.
struct RequestAffinity {
    struct Key: Hashable {
        var sender: Principal
        var epoch: UInt64
        var correlation: UInt64
    }

    static let entriesMax = 65_536
    private var instances: [Key: Principal] = [:]
    private var order: [Key] = []
    private var head = 0

    func instance(for key: Key) -> Principal? { instances[key] }

    mutating func remember(_ key: Key, instance: Principal) {
        if instances.updateValue(instance, forKey: key) != nil { return }
        order.append(key)
        if instances.count > Self.entriesMax {
            instances[order[head]] = nil
            head += 1
        }
        if head >= Self.entriesMax {
            order.removeFirst(head)
            head = 0
        }
    }
}
