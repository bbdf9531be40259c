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

    /// The bus-config file given to every command, when the test brings its own (`configYAML`).
    let configPath: String?
    let components: String?
    let environment: [String: String]

    init(
        nodes: [String] = ["n1"], components: String? = nil, environment: [String: String] = [:],
        configYAML: String? = nil
    ) throws {
        let suffix = String(SecureRandom.uint64() % 1_000_000_000, radix: 36)
        directory = DataDirectory(root: "/tmp/bizra-it-\(suffix)")
        self.nodes = nodes
        self.components = components
        self.environment = environment
        if let configYAML {
            try DataDirectory.makeDirectory(directory.root)
            configPath = directory.root + "/bus-config.yaml"
            try configYAML.write(toFile: directory.root + "/bus-config.yaml", atomically: true, encoding: .utf8)
        } else {
            configPath = nil
        }
        portBase = try PortSlots.shared.acquire()
        try up()
    }

    /// Starts (or restarts, after `down()`) the supervisor of the selected nodes.
    func up() throws {
        var arguments = ["up", "--detach"] + common
        for node in nodes { arguments += ["--node", node] }
        if let components { arguments += ["--components", components] }
        let result = try Self.run(arguments, environment: environment)
        guard result.status == 0 else {
            teardown()
            throw ClusterError("bizra up failed (\(result.status)): \(result.output)\n\(logs())")
        }
    }

    /// Stops every process gracefully, keeping the data directory.
    func down() throws {
        let result = try cli(["down"])
        guard result.status == 0 else { throw ClusterError("bizra down failed: \(result.output)") }
    }

    var common: [String] {
        ["--data-dir", directory.root, "--port-base", "\(portBase)"] + (configPath.map { ["--config", $0] } ?? [])
    }

    deinit { teardown() }

    /// Set once torn down: `deinit` after an explicit `teardown()` has nothing left to do (and a
    /// second `down` or `status` would wait 3 s for a supervisor that is gone).
    private var tornDown = false

    func teardown() {
        guard !tornDown else { return }
        tornDown = true
        // The children's PIDs, asked before `down` (afterwards no supervisor answers).
        let children = knownPIDs
        _ = try? Self.run(["down"] + common, timeoutSeconds: 60)
        // Whatever survived (a failed test, a hung child): kill it by the PIDs we know.
        if let pids = try? String(contentsOfFile: directory.supervisorPIDFile, encoding: .utf8) {
            for pid in pids.split(separator: "\n").compactMap({ Int32($0) }) { kill(pid, SIGKILL) }
        }
        for pid in children where kill(pid, 0) == 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory.root)
        PortSlots.shared.release(portBase)
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

/// Port bases for the clusters of this test process. Suites run concurrently, so two live
/// clusters must never share ports (a random pick from 40 bases collided in CI), and every
/// base stays below Linux's ephemeral range (32768...60999), where outgoing connections
/// would take our listening ports. A node uses portBase...portBase+99 and the embedded default
/// has three nodes, so each slot spans 1000 ports: 20000, 21000, ..., 31000.
final class PortSlots: @unchecked Sendable {
    static let shared = PortSlots()
    static let first = 20_000
    static let slotCount = 12
    static let waitLimitSeconds = 300.0

    private let lock = NSCondition()
    private var inUse: Set<Int> = []
    /// Rotates from a random start, so a slot just released (its sockets in TIME_WAIT, its
    /// last run perhaps still exiting) is the last to be handed out again.
    private var next = Int(SecureRandom.uint64() % UInt64(PortSlots.slotCount))

    func acquire() throws -> Int {
        lock.lock()
        defer { lock.unlock() }
        let deadline = Date().addingTimeInterval(Self.waitLimitSeconds)
        while true {
            for step in 0..<Self.slotCount {
                let slot = (next + step) % Self.slotCount
                let base = Self.first + slot * 1000
                if !inUse.contains(base) {
                    inUse.insert(base)
                    next = slot + 1
                    return base
                }
            }
            guard lock.wait(until: deadline) else {
                throw ClusterError("all \(Self.slotCount) port slots stayed in use for \(Self.waitLimitSeconds) s")
            }
        }
    }

    func release(_ base: Int) {
        lock.lock()
        inUse.remove(base)
        lock.broadcast()
        lock.unlock()
    }
}
