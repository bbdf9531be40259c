import BizraBus
import BizraConfig
import BizraCrypto
import Foundation
import Testing

/// A real deployment for a test: `bizra up --detach` on a private data directory and port base,
/// torn down (and every process it started killed) when the test ends, even when it fails.
final class LocalCluster {
    let directory: DataDirectory
    let portBase: Int
    let nodes: [String]
    static let binDir: String = {
        if let dir = ProcessInfo.processInfo.environment["BIZRA_BIN_DIR"] { return dir }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug").path
    }()

    init(nodes: [String] = ["n1"], components: String? = nil, environment: [String: String] = [:]) throws {
        let suffix = String(SecureRandom.uint64() % 1_000_000_000, radix: 36)
        directory = DataDirectory(root: "/tmp/bizra-it-\(suffix)")
        // Distinct ports per run: 20000...59000 in steps of 1000 (a node uses portBase...+99).
        portBase = 20_000 + Int(SecureRandom.uint64() % 40) * 1000
        self.nodes = nodes
        var arguments = ["up", "--detach"] + common
        for node in nodes { arguments += ["--node", node] }
        if let components { arguments += ["--components", components] }
        let result = try Self.run(arguments, environment: environment)
        guard result.status == 0 else {
            teardown()
            throw ClusterError("bizra up failed (\(result.status)): \(result.output)\n\(logs())")
        }
    }

    var common: [String] { ["--data-dir", directory.root, "--port-base", "\(portBase)"] }

    deinit { teardown() }

    func teardown() {
        _ = try? Self.run(["down"] + common, timeoutSeconds: 60)
        // Whatever survived (a failed test, a hung child): kill it by the PIDs we know.
        if let pids = try? String(contentsOfFile: directory.supervisorPIDFile, encoding: .utf8) {
            for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        for pid in knownPIDs { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory.root)
    }

    private var knownPIDs: [Int32] { (try? status())?.children.map(\.pid).filter { $0 > 0 } ?? [] }

    /// Runs `bizra ARGS`, returning its exit status and combined output (via a temporary file,
    /// with posix_spawn and waitpid, so that nothing depends on pipes or run loops).
    @discardableResult
    static func run(_ arguments: [String], timeoutSeconds: Double = 60, environment: [String: String] = [:]) throws
        -> (status: Int32, output: String)
    {
        let outputPath = "/tmp/bizra-it-out-\(SecureRandom.uint64())"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let path = binDir + "/bizra"
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        let extra = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") }
        var inherited: [UnsafeMutablePointer<CChar>?] = []
        var entry = environ
        while let variable = entry.pointee {
            inherited.append(variable)
            entry += 1
        }
        let envp = inherited + extra + [nil]
        defer { for variable in extra { free(variable) } }
        let rc = posix_spawn(&pid, path, &actions, nil, argv, envp)
        guard rc == 0 else { throw ClusterError("cannot start \(path): errno \(rc)") }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw ClusterError("bizra \(arguments.joined(separator: " ")) did not finish in \(timeoutSeconds) s")
            }
            usleep(10_000)
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exitCode = status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitCode, output)
    }

    func cli(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try Self.run(arguments + common)
    }

    typealias Status = SupervisorStatus
    typealias StatusChild = SupervisorStatus.Child

    func status() throws -> Status {
        let result = try cli(["status", "--json"])
        guard result.status == 0 else { throw ClusterError("status failed: \(result.output)") }
        return try JSONDecoder().decode(Status.self, from: Data(result.output.utf8))
    }

    /// Polls `condition` every 100 ms until it holds or `seconds` pass.
    func eventually(_ seconds: Double, _ condition: () throws -> Bool) rethrows -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try condition() { return true }
            usleep(100_000)
        }
        return try condition()
    }

    func healthyWorkers(node: String = "n1") throws -> [StatusChild] {
        try status().children.filter { $0.node == node && $0.component == "worker" && $0.health.hasPrefix("healthy") }
    }

    /// An in-process client of `node`'s core with its own client identity.
    func client(node: String = "n1", name: String = "itest") throws -> BusClient {
        let config = try MeshConfig.embeddedDefault().withPortBase(portBase)
        return try BusClient.startClient(
            name: name, node: node, directory: directory, settings: config.bus, logger: .init(label: "itest"))
    }

    /// The last lines of every log, for failure messages.
    func logs() -> String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory.logsDir)) ?? []
        return files.sorted().map { file in
            let text = (try? String(contentsOfFile: directory.logsDir + "/" + file, encoding: .utf8)) ?? ""
            return "--- \(file)\n" + text.split(separator: "\n").suffix(8).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}

struct ClusterError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
