import BizraCrypto
import Foundation
import Testing

@testable import BizraBus

/// The worked example of docs/PROTOCOL.md §2, byte for byte: if the frame format changes, this
/// test fails until the document (and this copy of its hex) is updated.
@Suite struct ProtocolExampleTests {
    static let frame = Frame(
        sender: Principal(node: "n1", component: "worker", instance: 0), epoch: 1_700_000_000_000_000,
        firstSequence: 1, timestampMicros: 1_700_000_000_123_456, destination: .service(node: "n1", name: "worker"),
        records: [Frame.Record(kind: .request, type: "worker.work", correlation: 7, payload: Array("hi".utf8))])

    /// docs/PROTOCOL.md §2.6, one line per field group there.
    static let documentedHex =
        "425a" + "01" + "00" + "00060a24181e4000" + "0000000000000001" + "00060a2418202240" + "0001"
        + "02" + "6e31" + "06" + "776f726b6572" + "00000000"
        + "02" + "02" + "6e31" + "06" + "776f726b6572"
        + "0000001b"
        + "01" + "0b" + "776f726b65722e776f726b" + "0000000000000007" + "00000002" + "6869"
        + "1bd94d03f7f655444b1b1802abf51ab15a37bcffcf36b5f706a8308d92504cd6"
        + "dad61cea7c8b36e1de92545c222b4d15f112e98344555c9a3d317d4b35ba450e"

    @Test func workedExampleInProtocolDocMatchesTheEncoder() throws {
        let key = try Ed25519.KeyPair(seed: Array(0...31))
        let bytes = try Self.frame.encodeSigned(with: key, limits: FrameLimits())
        #expect(Hex.encode(key.publicKey) == "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8")
        #expect(Hex.encode(bytes) == Self.documentedHex)
    }

    /// The hex column of the example block in docs/PROTOCOL.md, checking each line's offset.
    @Test func workedExampleInProtocolDocHasTheEncodersBytesAtTheStatedOffsets() throws {
        let path = repositoryRoot.appendingPathComponent("docs/PROTOCOL.md").path
        let text = try String(contentsOfFile: path, encoding: .utf8)
        let begin = try #require(text.range(of: "<!-- example-frame:begin -->"))
        let end = try #require(text.range(of: "<!-- example-frame:end -->"))
        var hex = ""
        for line in text[begin.upperBound..<end.lowerBound].split(separator: "\n") {
            let columns = line.split(separator: " ", omittingEmptySubsequences: true)
            guard columns.count >= 2, let offset = Int(columns[0]) else { continue }
            #expect(offset == hex.count / 2, "line `\(line)` is at byte \(hex.count / 2)")
            hex += columns[1]
        }
        #expect(hex == Self.documentedHex)
    }
}
