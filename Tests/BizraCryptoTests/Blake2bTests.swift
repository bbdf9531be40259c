import BizraCrypto
import Testing

@Suite struct Blake2bTests {
    @Test func blake2b256OfEmptyAndAbcMatchTheReference() {
        // BLAKE2b-256 reference digests (the BLAKE2 reference implementation, b2sum -l 256).
        #expect(
            Hex.encode(Blake2b.hash([]))
                == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8")
        #expect(
            Hex.encode(Blake2b.hash(Array("abc".utf8)))
                == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")
    }

    @Test func blake2b512OfAbcMatchesRFC7693AppendixA() {
        #expect(
            Hex.encode(Blake2b.hash(Array("abc".utf8), outputBytes: 64))
                == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
    }

    @Test func partsAreHashedAsTheirConcatenation() {
        let whole = Blake2b.hash(Array("hello, world".utf8))
        #expect(Blake2b.hash(Array("hello".utf8), Array(", ".utf8), Array("world".utf8)) == whole)
        #expect(Blake2b.hash([], Array("hello, world".utf8), []) == whole)
        #expect(Blake2b.hash(Array("hello".utf8)) != whole)
        #expect(Blake2b.hash([1], outputBytes: 16).count == 16)
    }
}

@Suite struct HexTests {
    @Test func encodeThenDecodeIsIdentityForEveryByte() throws {
        let all = [UInt8](0...255)
        let text = Hex.encode(all)
        #expect(text.count == 512)
        #expect(text.hasPrefix("000102") && text.hasSuffix("fdfeff"))
        #expect(try Hex.decode(text) == all)
        #expect(try Hex.decode(text.uppercased()) == all)
        #expect(try Hex.decode("") == [])
    }

    @Test func oddLengthAndNonHexCharactersAreBadEncoding() {
        for bad in ["abc", "0g", "zz", " 00", "0x00", "é0"] {
            do {
                let decoded = try Hex.decode(bad)
                Issue.record("`\(bad)` decoded to \(decoded)")
            } catch {
                #expect(error.code == .badEncoding)
                #expect(!error.message.isEmpty)
            }
        }
    }
}
