import Testing

@testable import BizraRaft

@Suite struct RaftNamespaceTests {
    @Test func indexZeroIsTheEmptyLog() {
        let empty: Raft.Index = 0
        #expect(empty == 0)
    }
}
