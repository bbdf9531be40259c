import Testing

@testable import BizraSim

@Suite struct LinearizabilityCheckerTests {
    @Test func sequentialWriteThenReadIsValid() {
        var h = HistoryBuilder()
        h.op(0, "write", .int(1), .int(1))
        h.op(1, "read", .none, .int(1))
        #expect(checkRegister(h.history, cas: false) == .valid)
    }

    @Test func readOfOverwrittenValueIsInvalid() {
        var h = HistoryBuilder()
        h.op(0, "write", .int(1), .int(1))
        h.op(1, "read", .none, .int(0))
        #expect(checkRegister(h.history, cas: false).isInvalid)
    }

    @Test func concurrentReadMaySeeEitherValue() {
        for seen: Int64 in [0, 1] {
            var h = HistoryBuilder()
            h.invoke(0, "write", .int(1))
            h.invoke(1, "read")
            h.ok(1, "read", .int(seen))
            h.ok(0, "write", .int(1))
            #expect(checkRegister(h.history) == .valid)
        }
    }

    /// New-old inversion: once a read saw the new value, a later read may not see the old one.
    @Test func newOldInversionIsInvalid() {
        var h = HistoryBuilder()
        h.invoke(0, "write", .int(1))
        h.op(1, "read", .none, .int(1))
        h.op(2, "read", .none, .int(0))
        h.ok(0, "write", .int(1))
        #expect(checkRegister(h.history).isInvalid)
    }

    @Test func readOfValueNeverWrittenIsInvalid() {
        var h = HistoryBuilder()
        h.invoke(0, "write", .int(1))
        h.op(1, "read", .none, .int(9))
        h.ok(0, "write", .int(1))
        #expect(checkRegister(h.history).isInvalid)
    }

    @Test func compareAndSetSucceedsOnlyOnExpectedValue() {
        var valid = HistoryBuilder()
        valid.op(0, "cas", .pair(0, 1), .pair(0, 1))
        valid.op(1, "read", .none, .int(1))
        valid.invoke(2, "cas", .pair(0, 2))
        valid.fail(2, "cas", .pair(0, 2))
        #expect(checkRegister(valid.history) == .valid)
        var invalid = HistoryBuilder()
        invalid.op(0, "cas", .pair(0, 1), .pair(0, 1))
        invalid.op(1, "cas", .pair(0, 2), .pair(0, 2))
        #expect(checkRegister(invalid.history).isInvalid)
    }

    @Test func indeterminateWriteMayTakeEffectLateOrNever() {
        for later: Int64 in [0, 1] {
            var h = HistoryBuilder()
            h.invoke(0, "write", .int(1))
            h.info(0, "write", .int(1))
            h.op(1, "read", .none, .int(0))
            h.op(1, "read", .none, .int(later))
            #expect(checkRegister(h.history) == .valid)
        }
        var reverted = HistoryBuilder()
        reverted.invoke(0, "write", .int(1))
        reverted.info(0, "write", .int(1))
        reverted.op(1, "read", .none, .int(1))
        reverted.op(1, "read", .none, .int(0))
        #expect(checkRegister(reverted.history).isInvalid)
    }

    @Test func operationWithoutCompletionCountsAsIndeterminate() {
        var h = HistoryBuilder()
        h.invoke(0, "write", .int(1))
        h.op(1, "read", .none, .int(1))
        #expect(checkRegister(h.history) == .valid)
    }

    @Test func keysAreCheckedIndependently() {
        var h = HistoryBuilder()
        h.op(0, "write", .int(1), .int(1), key: 0)
        h.op(1, "read", .none, .int(1), key: 0)
        h.op(0, "write", .int(2), .int(2), key: 1)
        h.op(1, "read", .none, .int(1), key: 1)
        let verdict = checkRegister(h.history)
        #expect(verdict.isInvalid)
        #expect(verdict.description.contains("key 1"))
    }

    @Test func fencedLockNeedsFreeLockAndIncreasingTokens() {
        var valid = HistoryBuilder()
        valid.op(0, "acquire", .none, .int(1))
        valid.op(0, "release", .int(1), .none)
        valid.op(1, "acquire", .none, .int(2))
        #expect(LinearizabilityChecker(model: FencedLockModel()).check(valid.history) == .valid)
        var doubleHeld = HistoryBuilder()
        doubleHeld.op(0, "acquire", .none, .int(1))
        doubleHeld.op(1, "acquire", .none, .int(2))
        #expect(LinearizabilityChecker(model: FencedLockModel()).check(doubleHeld.history).isInvalid)
        var staleToken = HistoryBuilder()
        staleToken.op(0, "acquire", .none, .int(5))
        staleToken.op(0, "release", .int(5), .none)
        staleToken.op(1, "acquire", .none, .int(5))
        #expect(LinearizabilityChecker(model: FencedLockModel()).check(staleToken.history).isInvalid)
    }

    /// A lease expiry recorded as an indeterminate release lets the next holder in.
    @Test func indeterminateReleaseModelsLeaseExpiry() {
        var h = HistoryBuilder()
        h.op(0, "acquire", .none, .int(1))
        h.invoke(9, "release", .int(1))
        h.info(9, "release", .int(1))
        h.op(1, "acquire", .none, .int(2))
        #expect(LinearizabilityChecker(model: FencedLockModel()).check(h.history) == .valid)
    }

    @Test func exhaustedBudgetGivesUnknownNotAVerdict() {
        var generator = RegisterHistoryGenerator()
        generator.operations = 400
        generator.clients = 12
        var rng = SimRNG(seed: 1)
        let history = generator.generate(rng: &rng)
        var checker = LinearizabilityChecker(model: CASRegisterModel(initial: 0))
        checker.searchStepsMax = 10
        guard case .unknown = checker.check(history) else {
            Issue.record("a 10-step budget should give unknown")
            return
        }
        checker.searchStepsMax = .max
        checker.shouldStop = { true }
        guard case .unknown = checker.check(history) else {
            Issue.record("shouldStop should give unknown")
            return
        }
    }

    @Test func operationsOutsideTheModelGiveUnknown() {
        var h = HistoryBuilder()
        h.op(0, "enqueue", .int(1), .int(1))
        guard case .unknown = checkRegister(h.history) else {
            Issue.record("an unknown function should not get a verdict")
            return
        }
    }
}
