import BizraConfig

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// libFuzzer entry point for the config decoder: any bytes must yield a config or a
/// `ConfigError`, never a crash or a hang.
///
/// Built with `-DFUZZING` and `--sanitize=fuzzer`, libFuzzer supplies `main` and calls this.
/// Without FUZZING, `ConfigFuzzReplay` below is the entry point and replays saved inputs
/// (crash reproducers, the seed corpus) through the same function. The file must not be named
/// `main.swift`: top-level code there would define a `main` that hides libFuzzer's.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzConfig(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    _ = try? MeshConfig.decode(bytes: bytes, source: "<fuzz input>")
    return 0
}

#if !FUZZING
    /// Replays every file named on the command line, and every file inside each named directory.
    @main
    enum ConfigFuzzReplay {
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
                fuzzConfig(buffer.baseAddress!, bytes.count)
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
