import Testing

@testable import BizraSim

/// The checker against histories of a correct sequential store under random concurrency: they
/// must pass; one mutated read must fail; making operations indeterminate must never turn a
/// valid history invalid.
@Suite struct GeneratedHistoryTests {
    static let configurations: [(clients: Int, operations: Int, keys: Int)] = [
        (2, 50, 1), (5, 200, 1), (10, 300, 1), (20, 1_000, 10),
    ]

    func generate(seed: UInt64, _ config: (clients: Int, operations: Int, keys: Int), info: Int = 0) -> History {
        var generator = RegisterHistoryGenerator()
        generator.clients = config.clients
        generator.operations = config.operations
        generator.keys = config.keys
        generator.indeterminatePerMillion = info
        generator.lostIndeterminatePerMillion = 500_000
        var rng = SimRNG(seed: seed)
        return generator.generate(rng: &rng)
    }

    @Test(arguments: 0..<4)
    func correctStoreHistoriesPass(configuration: Int) {
        for seed in 1...25 as ClosedRange<UInt64> {
            let history = generate(seed: seed, Self.configurations[configuration])
            let verdict = checkRegister(history)
            #expect(verdict == .valid, "seed \(seed): \(verdict)")
        }
    }

    @Test(arguments: 0..<4)
    func oneMutatedReadFails(configuration: Int) {
        for seed in 1...25 as ClosedRange<UInt64> {
            var events = generate(seed: seed, Self.configurations[configuration]).events
            var rng = SimRNG(seed: seed)
            let reads = events.indices.filter { events[$0].type == .ok && events[$0].f == "read" }
            guard !reads.isEmpty else { continue }
            events[reads[rng.below(reads.count)]].value = .int(-7)  // never written
            let verdict = checkRegister(History(events))
            #expect(verdict.isInvalid, "seed \(seed): \(verdict)")
        }
    }

    @Test(arguments: 0..<4)
    func indeterminateOperationsNeverMakeAValidHistoryInvalid(configuration: Int) {
        for seed in 1...25 as ClosedRange<UInt64> {
            let config = Self.configurations[configuration]
            let generated = generate(seed: seed, config, info: 100_000)
            #expect(checkRegister(generated) == .valid, "seed \(seed)")
            // Turn more completions into info, and add writes that never took effect.
            var events = generated.events
            var rng = SimRNG(seed: seed ^ 0xABCD)
            var nextProcess = 10_000
            for index in events.indices where events[index].type == .ok && rng.chance(perMillion: 200_000) {
                events[index].type = .info
                let process = events[index].process
                for later in (index + 1)..<events.count where events[later].process == process {
                    events[later].process = nextProcess
                }
                nextProcess += 1
            }
            for extra in 0..<5 {
                let at = rng.below(events.count)
                let write = History.Event(
                    process: nextProcess, type: .invoke, f: "write", key: 0, value: .int(-100 - Int64(extra)))
                events.insert(write, at: at)
                events.insert(
                    History.Event(process: nextProcess, type: .info, f: "write", key: 0),
                    at: at + 1 + rng.below(events.count - at))
                nextProcess += 1
            }
            let verdict = checkRegister(History(events))
            #expect(!verdict.isInvalid, "seed \(seed): \(verdict)")
        }
    }

    @Test func jsonLinesRoundTrip() throws {
        let history = generate(seed: 3, (5, 200, 3), info: 100_000)
        let text = history.jsonLines()
        let parsed = try History(jsonLines: text)
        #expect(parsed == history)
        #expect(parsed.jsonLines() == text)
    }

    @Test func jsonLinesReadsJepsenShapedInputAndReportsBadLines() throws {
        let text = """
            {"process": 0, "type": "invoke", "f": "cas", "key": 2, "value": [1, 2], "extra": "x"}
            {"process":0,"type":"ok","f":"cas","key":2,"value":[1,2]}

            {"process":"nemesis","type":"info","f":"start-partition","value":"majority"}
            {"process":1,"type":"invoke","f":"read","value":null}
            """
        let history = try History(jsonLines: text)
        #expect(history.events.count == 3)
        #expect(history.events[0].value == .pair(1, 2) && history.events[0].key == 2)
        #expect(throws: HistoryError.self) { try History(jsonLines: "{\"process\":0,\"type\":\"invoke\"}\n{") }
        do {
            _ = try History(
                jsonLines:
                    "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\"}\n{\"process\":1,\"type\":\"bogus\",\"f\":\"read\"}"
            )
        } catch {
            #expect(error.line == 2)
        }
    }

    /// Malformed input is rejected with a line number, never a crash: random mutations of valid
    /// lines (bytes flipped, cut, duplicated) either parse or throw.
    @Test func mangledJSONLinesNeverCrashTheReader() {
        let valid = Array(generate(seed: 1, (3, 20, 2), info: 100_000).jsonLines().utf8)
        var rng = SimRNG(seed: 99)
        var rejected = 0
        for _ in 0..<2_000 {
            var bytes = valid
            for _ in 0..<(1 + rng.below(4)) {
                let at = rng.below(bytes.count)
                switch rng.below(3) {
                case 0: bytes[at] = UInt8(truncatingIfNeeded: rng.next())
                case 1: bytes.removeSubrange(at..<min(bytes.count, at + rng.below(8) + 1))
                default: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 5)], at: at)
                }
            }
            do { _ = try History(jsonLines: String(decoding: bytes, as: UTF8.self)) } catch { rejected += 1 }
        }
        #expect(rejected > 100)
    }
}
