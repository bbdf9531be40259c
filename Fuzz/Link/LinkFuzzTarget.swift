import BizraLink

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// libFuzzer entry point for the link frame decoder (`LinkDecoder`) and the CurveZMQ command and
/// metadata decoders of encrypted links: any bytes must decode or be refused with a `LinkError`,
/// never crash, hang or allocate beyond the limits.
///
/// Each input is fed twice, whole and in two pieces at an input-chosen split, and both ways
/// must give the same messages (streaming reassembly is exact). Every decoded batch must
/// re-encode under each codec to bytes that decode to the same frames (round trip), and no
/// re-encoded batch may be more than its one-byte codec flag larger than its raw block.
///
/// Built with `-DFUZZING` and `--sanitize=fuzzer`, libFuzzer supplies `main`. Without FUZZING,
/// `LinkFuzzReplay` replays saved inputs. The file must not be named `main.swift`.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLink(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    LinkFuzzOracle.check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

enum LinkFuzzOracle {
    /// Small limits, so that the fuzzer reaches them.
    static let limits = Link.Limits(
        linkFrameBytesMax: 70_000, batchFramesMax: 64, batchRawBytesMax: 65_536, busFrameBytesMax: 8192,
        dictionaryBytesMax: 16_384, dictionariesMax: 2)

    static func decode(_ pieces: [ArraySlice<UInt8>]) -> (messages: [Link.Message], error: LinkError?) {
        let decoder = LinkDecoder(limits: limits)
        var messages: [Link.Message] = []
        do {
            for piece in pieces {
                decoder.append(Array(piece))
                while let (message, _) = try decoder.next() { messages.append(message) }
            }
            return (messages, nil)
        } catch { return (messages, error) }
    }

    static func check(_ bytes: [UInt8]) {
        let whole = decode([bytes[...]])
        let split = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        let pieces = decode([bytes[..<split], bytes[split...]])
        precondition(whole.messages == pieces.messages, "split decoding differs from whole decoding")
        precondition(whole.error == pieces.error, "split decoding fails differently")
        let encoder = LinkEncoder(limits: limits)
        for case .batch(let frames, _) in whole.messages {
            let block = LinkEncoder.block(frames)
            for codec in [Link.Codec.none, .lz4, .zstd] {
                let batch = encoder.batch(frames, codec: codec)
                precondition(batch.bytes.count <= 6 + block.count, "\(codec) expanded a batch")
                let again = decode([batch.bytes[...]])
                precondition(
                    again.error == nil && again.messages == [.batch(frames: frames, codec: batch.codec)],
                    "a batch did not round-trip under \(codec)")
            }
        }
        checkCurveZMQ(bytes)
    }

    /// The same bytes as one CurveZMQ command and as metadata (§9.10): refused with a
    /// `LinkError` or decoded, and a decoded command re-encodes to exactly its bytes.
    static func checkCurveZMQ(_ bytes: [UInt8]) {
        if let command = try? CurveZMQ.Command.decode(bytes[...]) {
            precondition(command.encoded() == bytes, "a CurveZMQ command did not round-trip")
        }
        if let metadata = try? CurveZMQ.Metadata.decode(bytes[...]) {
            precondition(metadata.encoded() == bytes, "CurveZMQ metadata did not round-trip")
        }
    }
}

#if !FUZZING
    /// Replays every file named on the command line, and every file inside each named directory.
    @main
    enum LinkFuzzReplay {
        static func main() {
            var replayed = 0
            for path in CommandLine.arguments.dropFirst() {
                for file in files(path) {
                    LinkFuzzOracle.check(read(file))
                    replayed += 1
                }
            }
            print("replayed \(replayed) inputs")
        }

        static func read(_ path: String) -> [UInt8] {
            guard let file = fopen(path, "rb") else { return [] }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = fread(&chunk, 1, chunk.count, file)
                if count <= 0 { break }
                bytes += chunk[..<count]
            }
            return bytes
        }

        static func files(_ path: String) -> [String] {
            guard let directory = opendir(path) else { return [path] }
            defer { closedir(directory) }
            var names: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(path + "/" + name) }
            }
            return names.sorted()
        }
    }
#endif
