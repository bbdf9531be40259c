import BizraBus
import BizraConfig
import Foundation
import Testing

/// Three hosts in network namespaces (127.x addresses only, no default route), each running
/// `bizra up --node nX` of one config, talking over encrypted TCP through their links. One host is cut off
/// with nft and healed: traffic resumes, nothing is duplicated or corrupted, every drop is
/// counted. Skips loudly where namespaces cannot be created (not root, no `ip netns`, no nft).
@Suite(.serialized, .timeLimit(.minutes(3)))
struct LinkNamespaceTests {
    final class Deployment {
        let hosts: NamespaceHosts
        let root: String
        let configPath: String
        static let bizra = LocalCluster.binDir + "/bizra"

        init(hosts: NamespaceHosts) throws {
            self.hosts = hosts
            root = "/tmp/bizra-ns-\(hosts.suffix)"
            configPath = root + "/cluster.yaml"
            try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
            var yaml = MeshConfig.embeddedDefaultYAML
            for host in 1...hosts.hosts {
                let range = try #require(yaml.range(of: "address: 127.0.0.1\n"))
                yaml.replaceSubrange(range, with: "address: \(hosts.address(host))\n")
            }
            // Links between the hosts are encrypted, with the keys the copied keyring distributes.
            yaml += "link:\n  encrypt: true\n"
            try yaml.write(toFile: configPath, atomically: true, encoding: .utf8)
            // One key set, copied to every host (as an operator distributes keys and keyring).
            try run([Self.bizra, "keys", "gen", "--config", configPath, "--data-dir", dir(1)])
            try run([Self.bizra, "keys", "gen", "--client", "nstest", "--config", configPath, "--data-dir", dir(1)])
            for host in 2...hosts.hosts {
                try run(["mkdir", "-p", dir(host)])
                try run(["cp", "-r", dir(1) + "/keys", dir(1) + "/keyring.yaml", dir(host) + "/"])
            }
        }

        func dir(_ host: Int) -> String { root + "/h\(host)" }

        func up() throws {
            for host in 1...hosts.hosts {
                // A short TCP_USER_TIMEOUT, so that a long cut fails the links' connections.
                try run([
                    "ip", "netns", "exec", hosts.name(host), "env", "BIZRA_LINK_USER_TIMEOUT_MILLIS=3000", Self.bizra,
                    "up", "--detach", "--node", "n\(host)", "--config", configPath, "--data-dir", dir(host),
                ])
            }
        }

        func down() {
            for host in 1...hosts.hosts {
                _ = try? Command.run([Self.bizra, "down", "--data-dir", dir(host)], timeoutSeconds: 30)
            }
        }

        func status(_ host: Int) throws -> SupervisorStatus {
            let result = try Command.run([Self.bizra, "status", "--json", "--data-dir", dir(host)])
            guard result.status == 0 else { throw ClusterError("status of h\(host): \(result.output)") }
            return try JSONDecoder().decode(SupervisorStatus.self, from: Data(result.output.utf8))
        }

        func link(_ host: Int, to peer: String) throws -> LinkStatus.Peer? {
            try status(host).links?.first?.peers.first { $0.node == peer }
        }

        func logs() -> String {
            (1...hosts.hosts).map { host in
                LocalClusterLogs.tail(DataDirectory(root: dir(host)).logsDir)
            }.joined(separator: "\n")
        }

        @discardableResult
        func run(_ argv: [String]) throws -> String {
            let result = try Command.run(argv)
            guard result.status == 0 else {
                throw ClusterError("\(argv.joined(separator: " ")) failed (\(result.status)): \(result.output)")
            }
            return result.output
        }
    }

    static func topicMessages(_ reply: Delivery) -> Int? {
        let text = String(decoding: reply.payload, as: UTF8.self)
        guard let range = text.range(of: "\"topicMessages\":") else { return nil }
        return Int(text[range.upperBound...].prefix { $0.isNumber })
    }

    @Test func hostsExchangeTrafficAcrossACutAndHeal() async throws {
        if let reason = NamespaceHosts.unavailableReason() {
            let line = "SKIPPED LinkNamespaceTests: network namespaces cannot be created here (\(reason))\n"
            FileHandle.standardError.write(Data(("⚠️ " + line).utf8))
            print("⚠️ " + line)
            return
        }
        let hosts = try NamespaceHosts(hosts: 3)
        defer { hosts.teardown() }
        let deployment = try Deployment(hosts: hosts)
        defer {
            deployment.down()
            try? FileManager.default.removeItem(atPath: deployment.root)
        }
        try deployment.up()
        let connected = try await eventually(30) {
            try (1...3).allSatisfy { host in
                let links = try deployment.status(host).links ?? []
                return links.count == 1 && links[0].peers.count == 2
            }
        }
        try #require(connected, "links between the namespace hosts never came up:\n\(deployment.logs())")
        let config = try MeshConfig.load(path: deployment.configPath)
        let bus = try BusClient.startClient(
            name: "nstest", node: "n1", directory: DataDirectory(root: deployment.dir(1)), settings: config.bus,
            logger: .init(label: "nstest"))
        defer { bus.close() }
        try await crossHostTraffic(bus, deployment: deployment, config: config)
    }

    func crossHostTraffic(_ bus: BusClient, deployment: Deployment, config: MeshConfig) async throws {
        // Request/reply crosses hosts both ways through the links.
        for target in ["n2", "n3"] {
            for i in 0..<10 {
                let reply = try await bus.request(
                    .service(node: target, name: "worker"), type: "worker.work", payload: Array("r\(i)".utf8))
                #expect(reply.sender.node == target)
            }
        }
        var sent = 0
        func publish(_ count: Int, every millis: Int) async throws {
            for _ in 0..<count {
                try bus.publish(topic: "worker.ns", scope: .cluster, type: "ns", payload: Array("m\(sent)".utf8))
                sent += 1
                if millis > 0 { try await Task.sleep(for: .milliseconds(millis)) }
            }
        }
        try await publish(20, every: 0)
        // A short cut: TCP retransmits through it, nothing is lost.
        try deployment.hosts.cut(3)
        try await publish(10, every: 50)
        try deployment.hosts.heal(3)
        try await Task.sleep(for: .seconds(1))
        // A long cut: n1's connections to n3 fail (TCP_USER_TIMEOUT), what was in flight and what
        // is published while n3 is unreachable is dropped and counted; traffic to n2 goes on.
        try deployment.hosts.cut(3)
        try await publish(40, every: 150)
        let toN2 = try await bus.request(.service(node: "n2", name: "worker"), type: "worker.work", payload: [1])
        #expect(toN2.sender.node == "n2")
        await #expect(throws: BusError.self) {
            _ = try await bus.request(
                .service(node: "n3", name: "worker"), type: "worker.work", payload: [2], timeoutMillis: 300, retries: 0)
        }
        try deployment.hosts.heal(3)
        let resumed = try await eventually(20) {
            (try? await bus.request(
                .service(node: "n3", name: "worker"), type: "worker.work", payload: [3], timeoutMillis: 500, retries: 0))
                != nil
        }
        #expect(resumed, "traffic to n3 did not resume after the heal:\n\(deployment.logs())")
        try await publish(10, every: 0)
        try await checkAccounting(bus, deployment: deployment, sent: sent)
    }

    /// Every n2/n3 worker got each cluster message at most once, and what n3's did not get is
    /// exactly what the links counted as dropped.
    func checkAccounting(_ bus: BusClient, deployment: Deployment, sent: Int) async throws {
        try await Task.sleep(for: .seconds(2))  // the supervisor polls link status once a second
        let outToN3 = try #require(try deployment.link(1, to: "n3"))
        let inFromN1 = try #require(try deployment.link(3, to: "n1"))
        let linkDrops =
            outToN3.droppedUnreachable + outToN3.droppedOverflow + outToN3.droppedWriteFailed
            + outToN3.droppedInFlight + inFromN1.droppedInbound
        for node in ["n2", "n3"] {
            for instance in 0..<2 {
                let stats = try await bus.request(
                    .instance(Principal(node: node, component: "worker", instance: UInt32(instance))),
                    type: "worker.stats", payload: [])
                let received = try #require(Self.topicMessages(stats))
                print(
                    "namespace cut: \(node)#\(instance) received \(received) of \(sent); link drops to n3 \(linkDrops) "
                        + "(unreachable \(outToN3.droppedUnreachable), in flight \(outToN3.droppedInFlight))")
                #expect(received <= sent, "\(node)#\(instance) got \(received) of \(sent): duplicates")
                if node == "n2" {
                    #expect(received == sent, "n2#\(instance) got \(received) of \(sent) without any cut")
                } else {
                    // Every loss is counted; the count may include frames whose acknowledgement
                    // (not the frames) the cut lost, so it is an upper bound.
                    #expect(
                        received + linkDrops >= sent && received < sent,
                        "n3#\(instance) got \(received) of \(sent), links counted \(linkDrops) dropped: \(outToN3)")
                }
            }
        }
        let rejected = try deployment.status(3).nodes.first?.core?.rejected ?? [:]
        #expect(rejected.isEmpty, "n3's core rejected frames from the link: \(rejected)")
        #expect(outToN3.rejectedIn == 0 && inFromN1.rejectedIn == 0, "links refused link frames")
    }

    func eventually(_ seconds: Double, _ condition: () async throws -> Bool) async throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if try await condition() { return true }
            try await Task.sleep(for: .milliseconds(250))
        }
        return try await condition()
    }
}

/// The last lines of every log in a logs directory, for failure messages.
enum LocalClusterLogs {
    static func tail(_ logsDir: String) -> String {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: logsDir)) ?? []
        return files.sorted().map { file in
            let text = (try? String(contentsOfFile: logsDir + "/" + file, encoding: .utf8)) ?? ""
            return "--- \(file)\n" + text.split(separator: "\n").suffix(8).joined(separator: "\n")
        }.joined(separator: "\n")
    }
}
