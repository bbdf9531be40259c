import Testing

@testable import BizraSim

/// Set-full, counter and fenced-lock checking on generated histories of correct objects: they
/// must pass, and one targeted mutation must fail.
@Suite struct SequentialStoreHistoryTests {
    @Test func correctCounterHistoriesPassAndAnInflatedReadFails() {
        for seed in 1...30 as ClosedRange<UInt64> {
            let history = SequentialStoreGenerator(object: .counter).generate(seed: seed)
            #expect(CounterChecker().check(history) == .valid, "seed \(seed)")
            var events = history.events
            guard let read = events.indices.last(where: { events[$0].type == .ok && events[$0].f == "read" }) else {
                continue
            }
            events[read].value = .int(10_000)  // more than every add together
            #expect(CounterChecker().check(History(events)).isInvalid, "seed \(seed)")
        }
    }

    @Test func correctSetHistoriesPassAndADroppedElementIsLost() {
        for seed in 1...30 as ClosedRange<UInt64> {
            var history = SequentialStoreGenerator(object: .set).generate(seed: seed)
            let report = SetFullChecker().check(history)
            #expect(report.verdict == .valid, "seed \(seed): \(report)")
            // A final read that misses one acknowledged add.
            let acknowledged = history.events.filter { $0.type == .ok && $0.f == "add" }.map { $0.value.elements[0] }
            guard let dropped = acknowledged.first else { continue }
            let everything = Set(history.events.filter { $0.f == "add" }.flatMap(\.value.elements))
            history.append(.init(process: 99_999, type: .invoke, f: "read"))
            let final = everything.subtracting([dropped]).sorted()
            history.append(.init(process: 99_999, type: .ok, f: "read", value: .list(final)))
            #expect(SetFullChecker().check(history).lost == [dropped], "seed \(seed)")
        }
    }

    @Test func correctLockHistoriesPassAndAReusedTokenFails() {
        var mutatedAny = false
        for seed in 1...30 as ClosedRange<UInt64> {
            let history = SequentialStoreGenerator(object: .lock).generate(seed: seed)
            let checker = LinearizabilityChecker(model: FencedLockModel())
            #expect(checker.check(history) == .valid, "seed \(seed): \(checker.check(history))")
            var events = history.events
            let grants = events.indices.filter { events[$0].type == .ok && events[$0].f == "acquire" }
            guard grants.count >= 2 else { continue }
            events[grants[1]].value = events[grants[0]].value  // the second holder reuses a token
            #expect(checker.check(History(events)).isInvalid, "seed \(seed)")
            mutatedAny = true
        }
        #expect(mutatedAny)
    }
}
