import BizraLink
import Testing

@Suite struct LinkPoolPolicyTests {
    let policy = LinkPoolPolicy(poolSize: 2)

    @Test func theFirstConnectionOpensOnDemandAndASecondOnlyForABacklog() {
        #expect(!policy.shouldDial(index: 0, queuedFrames: 0, connections: 0, retrying: false))
        #expect(policy.shouldDial(index: 0, queuedFrames: 1, connections: 0, retrying: false))
        #expect(policy.shouldDial(index: 0, queuedFrames: 0, connections: 0, retrying: true))
        let backlog = LinkPoolPolicy.backlogFramesMin
        #expect(!policy.shouldDial(index: 1, queuedFrames: backlog - 1, connections: 1, retrying: false))
        #expect(!policy.shouldDial(index: 1, queuedFrames: backlog, connections: 0, retrying: false))
        #expect(policy.shouldDial(index: 1, queuedFrames: backlog, connections: 1, retrying: false))
    }

    @Test func anIdleConnectionClosesAndAContendedOneYields() {
        #expect(policy.shouldClose(idleMillis: 0, contendedMillis: nil) == nil)
        #expect(policy.shouldClose(idleMillis: LinkPoolPolicy.idleCloseMillis - 1, contendedMillis: nil) == nil)
        #expect(policy.shouldClose(idleMillis: LinkPoolPolicy.idleCloseMillis, contendedMillis: nil) == .idle)
        // Busy and contended: keeps the slot for a while, then yields so no instance starves.
        #expect(policy.shouldClose(idleMillis: 0, contendedMillis: 0) == nil)
        #expect(policy.shouldClose(idleMillis: 0, contendedMillis: LinkPoolPolicy.contendedHoldMaxMillis) == .yield)
        // Quiet and contended: yields quickly.
        #expect(policy.shouldClose(idleMillis: LinkPoolPolicy.yieldIdleMillis, contendedMillis: 0) == .yield)
    }

    @Test func dialersTryTheirOwnSlotFirstAndEverySlotOnce() {
        #expect(policy.slotOrder(index: 0) == [0, 1])
        #expect(policy.slotOrder(index: 1) == [1, 0])
        #expect(LinkPoolPolicy(poolSize: 1).slotOrder(index: 0) == [0])
    }
}
