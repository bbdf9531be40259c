/// The simulator's event heap: a 4-ary min-heap of small, trivially copyable keys
/// (time, sequence, slot) over a slab of payloads. Four children per node halve the depth of a
/// binary heap, and the four keys of a sibling group share a cache line.
///
/// Why not `HeapModule.Heap<SimEvent>`: moving whole events (with generic, reference-counted
/// payloads) on every sift cost more than the protocol itself; here a sift moves 24-byte keys and
/// a payload is written once and taken once. Free slots are reused, so the slab stays as large
/// as the most events ever pending. Ordering is by (time, sequence), sequence unique.
struct EventQueue<Payload> {
    /// What the heap orders: 24 trivially copyable bytes pointing at a payload slot.
    struct Key {
        var time: SimTime
        var sequence: UInt64
        var slot: Int32

        @inline(__always)
        static func precedes(_ a: Key, _ b: Key) -> Bool {
            a.time != b.time ? a.time < b.time : a.sequence < b.sequence
        }
    }

    private var keys: [Key] = []
    private var payloads: [Payload?] = []
    private var freeSlots: [Int32] = []

    var count: Int { keys.count }

    /// Time of the earliest event, if any.
    var minTime: SimTime? { keys.first?.time }

    mutating func reserveCapacity(_ capacity: Int) {
        keys.reserveCapacity(capacity)
        payloads.reserveCapacity(capacity)
    }

    mutating func push(time: SimTime, sequence: UInt64, _ payload: Payload) {
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            payloads[Int(slot)] = payload
        } else {
            slot = Int32(payloads.count)
            payloads.append(payload)
        }
        keys.append(Key(time: time, sequence: sequence, slot: slot))
        siftUp(keys.count - 1)
    }

    /// Removes and returns the earliest event. The queue MUST NOT be empty.
    mutating func pop() -> (time: SimTime, sequence: UInt64, payload: Payload) {
        let top = keys[0]
        let last = keys.removeLast()
        if !keys.isEmpty {
            keys[0] = last
            siftDown(0)
        }
        var payload: Payload? = nil
        swap(&payload, &payloads[Int(top.slot)])
        freeSlots.append(top.slot)
        return (top.time, top.sequence, payload!)
    }

    private mutating func siftUp(_ start: Int) {
        keys.withUnsafeMutableBufferPointer { heap in
            var child = start
            let moving = heap[child]
            while child > 0 {
                let parent = (child - 1) >> 2
                guard Key.precedes(moving, heap[parent]) else { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = moving
        }
    }

    private mutating func siftDown(_ start: Int) {
        keys.withUnsafeMutableBufferPointer { heap in
            let count = heap.count
            var parent = start
            let moving = heap[parent]
            while true {
                let first = 4 * parent + 1
                guard first < count else { break }
                var child = first
                let last = min(first + 4, count)
                var candidate = first + 1
                while candidate < last {
                    if Key.precedes(heap[candidate], heap[child]) { child = candidate }
                    candidate += 1
                }
                guard Key.precedes(heap[child], moving) else { break }
                heap[parent] = heap[child]
                parent = child
            }
            heap[parent] = moving
        }
    }
}
