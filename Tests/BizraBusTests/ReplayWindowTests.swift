import Testing

@testable import BizraBus

/// The per-stream anti-replay window (RFC 4303 §3.4.3 with boot epochs).
@Suite struct ReplayWindowTests {
    @Test func acceptedRangesReportTheNumbersSkippedSinceTheHighest() {
        let window = WindowBox(ReplayWindow(epoch: 10, size: 64))
        #expect(window.offer(epoch: 10, first: 1, last: 1) == .accept(gap: 0))
        #expect(window.offer(epoch: 10, first: 2, last: 5) == .accept(gap: 0))
        #expect(window.offer(epoch: 10, first: 9, last: 9) == .accept(gap: 3))
        #expect(window.window.highest == 9)
        #expect(window.offer(epoch: 10, first: 6, last: 8) == .accept(gap: 0), "late numbers fill the gap")
        #expect(window.offer(epoch: 10, first: 1000, last: 1000) == .accept(gap: 990))
    }

    @Test func everyNumberIsAcceptedOnceAsTheWindowSlidesFarPastIt() {
        let window = WindowBox(ReplayWindow(epoch: 1, size: 64))
        var rng = SplitMix64(seed: 3)
        var accepted: Set<UInt64> = []
        for _ in 0..<5000 {
            let sequence = UInt64.random(in: 1...3000, using: &rng)
            let verdict = window.offer(epoch: 1, first: sequence, last: sequence)
            let highestBefore = window.window.highest
            switch verdict {
            case .accept:
                #expect(accepted.insert(sequence).inserted, "\(sequence) accepted twice")
            case .replay:
                #expect(accepted.contains(sequence), "\(sequence) called a replay but never accepted")
            case .tooOld:
                #expect(highestBefore - sequence >= 64)
            }
        }
    }

    @Test func numbersBehindTheWindowAreTooOldAndInsideItAreChecked() {
        let window = WindowBox(ReplayWindow(epoch: 1, size: 128))
        #expect(window.offer(epoch: 1, first: 200, last: 200) == .accept(gap: 199))
        guard case .tooOld = window.offer(epoch: 1, first: 72, last: 72) else {
            Issue.record("72 is 128 behind 200")
            return
        }
        #expect(window.offer(epoch: 1, first: 73, last: 73) == .accept(gap: 0))
        guard case .replay = window.offer(epoch: 1, first: 73, last: 73) else {
            Issue.record("73 was accepted already")
            return
        }
    }

    @Test func largerEpochResetsTheWindowAndSmallerOneIsAReplay() {
        let window = WindowBox(ReplayWindow(epoch: 5, size: 64))
        #expect(window.offer(epoch: 5, first: 1, last: 50) == .accept(gap: 0))
        #expect(window.offer(epoch: 6, first: 1, last: 1) == .accept(gap: 0))
        #expect(window.window.epoch == 6 && window.window.highest == 1)
        guard case .replay = window.offer(epoch: 5, first: 51, last: 51) else {
            Issue.record("an older epoch must be a replay")
            return
        }
    }

    @Test func windowSlidesToTheTopOfUInt64WithoutOverflow() {
        let window = WindowBox(ReplayWindow(epoch: 1, size: 64))
        #expect(window.offer(epoch: 1, first: .max - 70, last: .max - 70) == .accept(gap: .max - 71))
        #expect(window.offer(epoch: 1, first: .max - 10, last: .max - 3) == .accept(gap: 59))
        #expect(window.offer(epoch: 1, first: .max, last: .max) == .accept(gap: 2))
        #expect(window.offer(epoch: 1, first: .max - 1, last: .max - 1) == .accept(gap: 0))
        #expect(window.window.highest == .max)
    }
}

/// A window in a box, so that `#expect` can offer to it (it cannot call a mutating method).
final class WindowBox {
    var window: ReplayWindow

    init(_ window: ReplayWindow) { self.window = window }

    func offer(epoch: UInt64, first: UInt64, last: UInt64) -> ReplayWindow.Verdict {
        window.offer(epoch: epoch, first: first, last: last)
    }
}
