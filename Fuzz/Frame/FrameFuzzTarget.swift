import BizraBus
import BizraConfig
import BizraCrypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// libFuzzer entry point for the frame decoder and verifier: any bytes must be accepted or
/// rejected with a `RejectReason`, never crash or hang.
///
/// Each input goes two ways: `ParsedFrame.parse` then `decodeBody` without a signature check
/// (so mutated bodies and LZ4 blocks reach the body decoder), and a fresh `FrameVerifier` whose
/// keyring holds the key that signed the seed corpus (fuzz/corpus/frame, made by
/// Tests/BizraBusTests/FrameSeedCorpusTests.swift) and whose clock reads the frame's own
/// timestamp, so that unmutated seeds pass the key and time checks and reach the signature, ACL,
/// body and replay paths. A frame the verifier accepts must then be refused as a replay.
///
/// Built with `-DFUZZING` and `--sanitize=fuzzer`, libFuzzer supplies `main` and calls this.
/// Without FUZZING, `FrameFuzzReplay` below is the entry point and replays saved inputs
/// (crash reproducers, the seed corpus) through the same function. The file must not be named
/// `main.swift`: top-level code there would define a `main` that hides libFuzzer's.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzFrame(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FrameFuzzOracle.check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// What the fuzzer checks, and the fixed verifier it checks with.
enum FrameFuzzOracle {
    /// The seed corpus key: Ed25519 from the 32-byte seed 0x00, 0x01, …, 0x1f.
    static let key = try! Ed25519.KeyPair(seed: Array(0...31))
    /// Every sender name the seed corpus uses, all under the one key.
    static let keyNames = ["n1/worker", "n1/core", "client/cli", "n2/worker", "n2/compression"]
    static let settings = BusSettings.defaults
    static let limits = FrameLimits(
        maxFrameBytes: settings.maxFrameBytes, maxBatchEnvelopes: settings.maxBatchEnvelopes)
    static let verifier: FrameVerifier = {
        var keyring = Keyring()
        for name in keyNames { keyring.add(name: name, publicKey: key.publicKey) }
        return FrameVerifier(keyring: keyring, acl: MeshConfig.embeddedDefault().acl, settings: settings)
    }()

    static func check(_ bytes: [UInt8]) {
        var now: Int64 = 0
        if let parsed = try? ParsedFrame.parse(bytes, limits: limits) {
            now = parsed.timestampMicros
            precondition(parsed.count >= 1 && parsed.count <= limits.maxBatchEnvelopes, "count \(parsed.count)")
            if let frame = try? parsed.decodeBody(limits: limits) {
                precondition(frame.records.count == parsed.count, "decoded \(frame.records.count) of \(parsed.count)")
            }
        }
        var fresh = verifier
        guard (try? fresh.verify(bytes, nowMicros: now)) != nil else { return }
        do {
            _ = try fresh.verify(bytes, nowMicros: now)
            preconditionFailure("a frame was accepted twice by one verifier")
        } catch {
            precondition(error.reason == .replay, "a repeated frame was refused as \(error.reason), not replay")
        }
    }
}

#if !FUZZING
    /// Replays every file named on the command line, and every file inside each named directory.
    @main
    enum FrameFuzzReplay {
        static func main() {
            var replayed = 0
            for path in CommandLine.arguments.dropFirst() {
                for file in InputFiles.list(path) {
                    replay(file)
                    replayed += 1
                }
            }
            print("replayed \(replayed) inputs")
        }

        static func replay(_ path: String) {
            guard let file = fopen(path, "rb") else {
                print("cannot open \(path)")
                return
            }
            defer { fclose(file) }
            var bytes: [UInt8] = []
            var chunk = [UInt8](repeating: 0, count: 65_536)
            while true {
                let count = fread(&chunk, 1, chunk.count, file)
                if count <= 0 { break }
                bytes += chunk[..<count]
            }
            let empty: [UInt8] = [0]
            _ = (bytes.isEmpty ? empty : bytes).withUnsafeBufferPointer { buffer in
                fuzzFrame(buffer.baseAddress!, bytes.count)
            }
        }
    }

    /// The regular files at a path: the path itself, or the entries of a directory, sorted.
    enum InputFiles {
        static func list(_ path: String) -> [String] {
            guard let directory = opendir(path) else { return [path] }
            defer { closedir(directory) }
            var files: [String] = []
            while let entry = readdir(directory) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { files.append(path + "/" + name) }
            }
            return files.sorted()
        }
    }
#endif
