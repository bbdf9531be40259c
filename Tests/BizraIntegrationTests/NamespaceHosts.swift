import BizraBus
import BizraConfig
import BizraCrypto
import Foundation

/// Network namespaces acting as hosts: each gets a veth into a private bridge namespace, only
/// 127.x addresses (loopback keeps 127.0.0.1/32; the host address 127.100.0.N/24 on its veth,
/// with `route_localnet=1`) and no default route, so no test traffic can leave 127.0.0.0/8.
/// Everything is created under a per-run suffix and removed in `teardown`, even on failure;
/// processes inside are stopped by the PIDs `ip netns pids` reports for our namespaces.
final class NamespaceHosts {
    let suffix: String
    let hosts: Int
    private(set) var created: [String] = []

    static let subnet = "127.100.0"

    init(hosts: Int) throws {
        suffix = String(SecureRandom.uint64() % 1_000_000, radix: 36)
        self.hosts = hosts
        do { try build() } catch {
            teardown()
            throw error
        }
    }

    var switchName: String { "bzs-\(suffix)" }
    func name(_ host: Int) -> String { "bzh\(host)-\(suffix)" }
    func address(_ host: Int) -> String { "\(Self.subnet).\(host)" }

    /// Why namespaces cannot be used here, or nil when they can.
    static func unavailableReason() -> String? {
        guard getuid() == 0 else { return "not root" }
        let probe = "bzp-\(getpid())"
        guard (try? Command.run(["ip", "netns", "add", probe]).status) == 0 else { return "`ip netns add` failed" }
        _ = try? Command.run(["ip", "netns", "del", probe])
        guard (try? Command.run(["nft", "--version"]).status) == 0 else { return "nft is not installed" }
        return nil
    }

    private func build() throws {
        try sh(["ip", "netns", "add", switchName])
        created.append(switchName)
        try sh(["ip", "-n", switchName, "link", "add", "br0", "type", "bridge"])
        try sh(["ip", "-n", switchName, "link", "set", "br0", "up"])
        for host in 1...hosts {
            let ns = name(host)
            let port = "v\(host)-\(suffix)"
            try sh(["ip", "netns", "add", ns])
            created.append(ns)
            try sh(["ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", ns])
            try sh(["ip", "link", "set", port, "netns", switchName])
            try sh(["ip", "-n", switchName, "link", "set", port, "master", "br0"])
            try sh(["ip", "-n", switchName, "link", "set", port, "up"])
            try sh(["ip", "-n", ns, "link", "set", "lo", "up"])
            // Loopback keeps only 127.0.0.1, so the rest of 127/8 routes over the veth.
            try sh(["ip", "-n", ns, "addr", "del", "127.0.0.1/8", "dev", "lo"])
            try sh(["ip", "-n", ns, "addr", "add", "127.0.0.1/32", "dev", "lo"])
            try sh([
                "ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.conf.all.route_localnet=1",
                "net.ipv4.conf.default.route_localnet=1", "net.ipv4.conf.eth0.route_localnet=1",
            ])
            try sh(["ip", "-n", ns, "addr", "add", "\(address(host))/24", "dev", "eth0"])
            try sh(["ip", "-n", ns, "link", "set", "eth0", "up"])
        }
    }

    /// Drops every packet in and out of `host`'s veth (an nft table in its namespace).
    func cut(_ host: Int) throws {
        let rules = """
            table inet bizracut {
                chain input { type filter hook input priority 0; policy accept; iifname "eth0" drop; }
                chain output { type filter hook output priority 0; policy accept; oifname "eth0" drop; }
            }
            """
        let path = "/tmp/bizra-nft-\(suffix).nft"
        try rules.write(toFile: path, atomically: true, encoding: .utf8)
        defer { unlink(path) }
        try sh(["ip", "netns", "exec", name(host), "nft", "-f", path])
    }

    func heal(_ host: Int) throws {
        try sh(["ip", "netns", "exec", name(host), "nft", "delete", "table", "inet", "bizracut"])
    }

    /// Kills what still runs in our namespaces (by PID), then deletes them.
    func teardown() {
        for ns in created.reversed() {
            let pids = (try? Command.run(["ip", "netns", "pids", ns]).output) ?? ""
            for pid in pids.split(separator: "\n").compactMap({ Int32($0.trimmingCharacters(in: .whitespaces)) }) {
                kill(pid, SIGKILL)
            }
        }
        for ns in created.reversed() { _ = try? Command.run(["ip", "netns", "del", ns]) }
        created = []
    }

    private func sh(_ argv: [String]) throws {
        let result = try Command.run(argv)
        guard result.status == 0 else {
            throw ClusterError("\(argv.joined(separator: " ")) failed (\(result.status)): \(result.output)")
        }
    }
}

/// Runs a command (searched on PATH) and returns its exit status and combined output, with
/// posix_spawnp and waitpid (Foundation's Process hung in these tests).
enum Command {
    static func run(_ argv: [String], timeoutSeconds: Double = 60) throws -> (status: Int32, output: String) {
        let outputPath = "/tmp/bizra-cmd-\(SecureRandom.uint64())"
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let cargs = argv.map { strdup($0) } + [nil]
        defer { for arg in cargs { free(arg) } }
        var pid: pid_t = 0
        let rc = posix_spawnp(&pid, argv[0], &actions, nil, cargs, environ)
        guard rc == 0 else { throw ClusterError("cannot start \(argv[0]): errno \(rc)") }
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                throw ClusterError("\(argv.joined(separator: " ")) did not finish in \(timeoutSeconds) s")
            }
            usleep(10_000)
        }
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        return (status & 0x7f == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f), output)
    }
}
