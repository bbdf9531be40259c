import Testing

@testable import BizraConfig

/// The example deployment must stay loadable, or the README points operators at a broken file.
@Suite struct ClusterExampleTests {
    @Test func clusterExampleLoadsWithItsKeyringBesideIt() throws {
        let path = repositoryRoot.appendingPathComponent("bus-config/cluster.example.yaml").path
        let config = try MeshConfig.load(path: path)
        #expect(config.nodes.map(\.id) == ["n1", "n2", "n3"])
        #expect(config.nodes.allSatisfy { $0.instances(of: "consensus") == 1 && $0.instances(of: "compression") == 1 })
        #expect(config.keyringPath == repositoryRoot.appendingPathComponent("bus-config/keyring.yaml").path)
    }
}
