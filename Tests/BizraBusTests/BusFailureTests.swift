import Testing

@testable import BizraBus

@Suite struct BusFailureTests {
    @Test func failureEncodesAsCodeThenUTF8ReasonAndDecodesBack() {
        let failure = BusFailure(.noRoute, "no route to n2: no link service on node n1")
        let bytes = failure.encoded()
        #expect(Array(bytes.prefix(2)) == [0, 1])
        #expect(Array(bytes.dropFirst(2)) == Array(failure.reason.utf8))
        #expect(BusFailure.decode(bytes) == failure)
        let codes: [BusFailure.Code] = [
            .noRoute, .noService, .noInstance, .rejected, .overloaded, .handlerFailed, .timedOut,
        ]
        #expect(codes.map(\.rawValue) == Array(1...7))
        for code in codes { #expect(BusFailure.decode(BusFailure(code, "é λ").encoded()) == BusFailure(code, "é λ")) }
    }

    @Test func reasonIsCutAt1024Bytes() {
        let failure = BusFailure(.handlerFailed, String(repeating: "x", count: 5000))
        #expect(failure.encoded().count == 2 + 1024)
        #expect(BusFailure.decode(failure.encoded()).reason.utf8.count == 1024)
    }

    @Test func shortOrUnknownPayloadsDecodeAsRejectedNeverTrap() {
        #expect(BusFailure.decode([]).code == .rejected)
        #expect(BusFailure.decode([0]).code == .rejected)
        #expect(BusFailure.decode([0, 2]) == BusFailure(.noService, ""))
        #expect(BusFailure.decode([0xFF, 0xFF, 0x41]) == BusFailure(.rejected, "A"))
        #expect(BusFailure.decode([0, 1, 0xFF, 0xFE]).code == .noRoute, "invalid UTF-8 is repaired, not fatal")
    }

    @Test func onlyFailuresBeforeAHandlerRanAreRetryable() {
        let retryable = [BusFailure.Code.noService, .noInstance, .overloaded, .timedOut]
        let final = [BusFailure.Code.noRoute, .rejected, .handlerFailed]
        #expect(retryable.allSatisfy { BusFailure($0, "").isRetryable })
        #expect(final.allSatisfy { !BusFailure($0, "").isRetryable })
    }
}
