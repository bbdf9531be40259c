import BizraCrypto
import Testing

@testable import BizraBus

@Suite struct FrameSignerTests {
    @Test func signerConsumesOneSequenceNumberPerEnvelopeInEachStream() throws {
        var signer = FrameSigner(principal: Fixture.worker, key: Fixture.key, limits: Fixture.limits(), epoch: 77)
        let limits = Fixture.limits()
        let three = Fixture.compressibleRecords(3, payloadBytes: 8)
        let one = [Frame.Record(kind: .message, type: "t", payload: [])]
        let a = try ParsedFrame.parse(
            signer.sign(three, to: .instance(Fixture.core), nowMicros: Fixture.now), limits: limits)
        let b = try ParsedFrame.parse(
            signer.sign(one, to: .service(node: "n1", name: "x"), nowMicros: Fixture.now), limits: limits)
        let c = try ParsedFrame.parse(
            signer.sign(one, to: .topic("jobs", scope: .local), nowMicros: Fixture.now), limits: limits)
        let d = try ParsedFrame.parse(
            signer.sign(three, to: .topic("jobs", scope: .cluster), nowMicros: Fixture.now), limits: limits)
        let e = try ParsedFrame.parse(
            signer.sign(one, to: .instance(Fixture.core), nowMicros: Fixture.now), limits: limits)
        #expect([a, b, e].map(\.firstSequence) == [1, 4, 5])
        #expect([c, d].map(\.firstSequence) == [1, 2])
        #expect(a.lastSequence == 3 && d.lastSequence == 4)
        #expect([a, b, c, d, e].allSatisfy { $0.epoch == 77 && $0.sender == Fixture.worker })
    }

    @Test func frameThatCannotBeBuiltConsumesNoSequenceNumber() throws {
        var signer = FrameSigner(principal: Fixture.worker, key: Fixture.key, limits: Fixture.limits(), epoch: 1)
        #expect(throws: FrameBuildError.self) { try signer.sign([], to: .instance(Fixture.core)) }
        let bytes = try signer.sign([Frame.Record(kind: .message, type: "t", payload: [])], to: .instance(Fixture.core))
        #expect(try ParsedFrame.parse(bytes, limits: Fixture.limits()).firstSequence == 1)
    }

    @Test func signedFramesVerifyInOrder() throws {
        var signer = FrameSigner(principal: Fixture.client, key: Fixture.key, limits: Fixture.limits(), epoch: 9)
        let verifier = Fixture.verifier()
        for index in 0..<20 {
            let destination: Destination = index % 3 == 0 ? .topic("t", scope: .local) : .instance(Fixture.worker)
            let bytes = try signer.sign(
                Fixture.compressibleRecords(index % 4 + 1, payloadBytes: 64), to: destination, nowMicros: Fixture.now,
                compress: index % 2 == 0)
            #expect(verifier.accepted(bytes) == 0)
        }
    }
}
