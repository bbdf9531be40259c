import BizraLink
import Testing

@Suite struct LinkSendQueueTests {
    @Test func anIdleLinkSendsALoneFrameAtOnce() {
        var queue = LinkSendQueue(framesMax: 10, bytesMax: 1000)
        let pushed = queue.push([1, 2, 3])
        let batch = queue.takeBatch(framesMax: 64, bytesMax: 1 << 20)
        #expect(pushed && batch == [[1, 2, 3]])
        #expect(queue.isEmpty && queue.bytes == 0)
    }

    @Test func aBacklogGoesAsOneBatchWithinItsLimits() {
        var queue = LinkSendQueue(framesMax: 100, bytesMax: 100_000)
        for i in 0..<50 { _ = queue.push([UInt8](repeating: UInt8(i), count: 10)) }
        let first = queue.takeBatch(framesMax: 20, bytesMax: 1 << 20)
        #expect(first.count == 20 && first[0] == [UInt8](repeating: 0, count: 10))
        let second = queue.takeBatch(framesMax: 64, bytesMax: 2 + 14 * 5)
        #expect(second.count == 5 && second[0][0] == 20)
        #expect(queue.depth == 25 && queue.bytes == 250)
    }

    @Test func aFrameLargerThanTheBatchLimitStillGoesAlone() {
        var queue = LinkSendQueue(framesMax: 10, bytesMax: 10_000)
        _ = queue.push([UInt8](repeating: 1, count: 5000))
        _ = queue.push([1])
        let first = queue.takeBatch(framesMax: 64, bytesMax: 100)
        let second = queue.takeBatch(framesMax: 64, bytesMax: 100)
        #expect(first.count == 1 && second == [[1]])
    }

    @Test func overflowIsRefusedAndCounted() {
        var queue = LinkSendQueue(framesMax: 3, bytesMax: 25)
        var accepted: [Bool] = []
        accepted.append(queue.push([UInt8](repeating: 0, count: 10)))
        accepted.append(queue.push([UInt8](repeating: 0, count: 10)))
        accepted.append(queue.push([UInt8](repeating: 0, count: 10)))  // over bytesMax
        accepted.append(queue.push([0]))
        accepted.append(queue.push([0]))  // over framesMax
        #expect(accepted == [true, true, false, true, false])
        #expect(queue.overflowed == 2 && queue.depth == 3)
        let dropped = queue.removeAll()
        #expect(dropped == 3 && queue.isEmpty)
    }
}
