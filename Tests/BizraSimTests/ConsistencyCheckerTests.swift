import Testing

@testable import BizraSim

@Suite struct SetFullCheckerTests {
    func history(readAtEnd: [Int64]) -> History {
        var h = HistoryBuilder()
        h.op(0, "add", .int(1), .int(1))
        h.op(1, "add", .int(2), .int(2))
        h.invoke(2, "add", .int(3))
        h.info(2, "add", .int(3))
        h.op(1, "read", .none, .list(readAtEnd))
        return h.history
    }

    @Test func acknowledgedAddsPresentInFinalReadIsValid() {
        #expect(SetFullChecker().check(history(readAtEnd: [1, 2])).verdict == .valid)
        #expect(SetFullChecker().check(history(readAtEnd: [1, 2, 3])).verdict == .valid)
    }

    @Test func acknowledgedAddMissingFromFinalReadIsLost() {
        let report = SetFullChecker().check(history(readAtEnd: [1, 3]))
        #expect(report.lost == [2])
        #expect(report.verdict.isInvalid)
    }

    @Test func elementNeverAddedIsUnexpected() {
        let report = SetFullChecker().check(history(readAtEnd: [1, 2, 99]))
        #expect(report.unexpected == [99])
        #expect(report.verdict.isInvalid)
    }

    @Test func missingThenPresentIsStaleNotLost() {
        var h = HistoryBuilder()
        h.op(0, "add", .int(1), .int(1))
        h.op(1, "read", .none, .list([]))
        h.op(1, "read", .none, .list([1]))
        let report = SetFullChecker().check(h.history)
        #expect(report.stale == [1] && report.lost.isEmpty)
        #expect(report.verdict == .valid)
    }
}

@Suite struct CounterCheckerTests {
    @Test func readsWithinBoundsAreValid() {
        var h = HistoryBuilder()
        h.op(0, "add", .int(1), .int(1))
        h.invoke(1, "add", .int(5))
        h.op(2, "read", .none, .int(6))
        h.op(2, "read", .none, .int(1))
        h.info(1, "add", .int(5))
        #expect(CounterChecker().check(h.history) == .valid)
    }

    @Test func readBelowAcknowledgedSumIsInvalid() {
        var h = HistoryBuilder()
        h.op(0, "add", .int(2), .int(2))
        h.op(1, "read", .none, .int(1))
        #expect(CounterChecker().check(h.history).isInvalid)
    }

    @Test func readAboveAttemptedSumIsInvalid() {
        var h = HistoryBuilder()
        h.op(0, "add", .int(2), .int(2))
        h.invoke(1, "add", .int(3))
        h.fail(1, "add", .int(3))
        h.op(1, "read", .none, .int(5))
        #expect(CounterChecker().check(h.history).isInvalid)
    }

    @Test func negativeDeltasWidenTheLowerBound() {
        var h = HistoryBuilder()
        h.op(0, "add", .int(5), .int(5))
        h.invoke(1, "add", .int(-3))
        h.op(2, "read", .none, .int(2))
        #expect(CounterChecker().check(h.history) == .valid)
    }
}

@Suite struct ConvergenceCheckerTests {
    @Test func equalReplicasConverge() {
        #expect(ConvergenceChecker.check([(0, [1, 2]), (1, [1, 2]), (2, [1, 2])]) == nil)
    }

    @Test func differingReplicaIsNamed() {
        let report = ConvergenceChecker.check([(0, [1, 2]), (1, [1, 2]), (2, [1])])
        #expect(report?.contains("node 2") == true)
    }
}
