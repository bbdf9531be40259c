import Foundation
import Testing

@testable import BizraConfig

@Suite struct EmbeddedDefaultTests {
    @Test func embeddedDefaultMatchesLocalYAML() throws {
        let fileText = try String(contentsOfFile: localYAMLPath, encoding: .utf8)
        #expect(MeshConfig.embeddedDefaultYAML == fileText, "update MeshConfig+EmbeddedDefault.swift from local.yaml")
        let fromText = try MeshConfig.decode(yaml: fileText, source: localYAMLPath)
        let fromFile = try MeshConfig.load(path: localYAMLPath)
        #expect(MeshConfig.embeddedDefault() == fromText)
        #expect(MeshConfig.embeddedDefault() == fromFile)
    }

    @Test func embeddedDefaultIsThreeLoopbackNodesWithWorkers() {
        let config = MeshConfig.embeddedDefault()
        #expect(config.cluster == "bizra-local")
        #expect(config.nodes.map(\.id) == ["n1", "n2", "n3"])
        #expect(config.nodes.map(\.portBase) == [17100, 17200, 17300])
        #expect(config.nodes.allSatisfy { $0.address == "127.0.0.1" && $0.instances(of: "worker") == 2 })
        #expect(config.node("n2")?.httpPort == 17200)
        #expect(config.node("n2")?.linkPort(instance: 1) == 17211)
        #expect(config.node("n9") == nil)
        #expect(config.bus == .defaults)
        #expect(config.worker == .defaults)
        #expect(config.acl == MeshConfig.defaultACL)
        #expect(config.keyringPath == nil)
    }

    @Test func omittedOptionalSectionsTakeDefaults() throws {
        let config = try MeshConfig.decode(yaml: twoNodeYAML, source: "test.yaml")
        #expect(config.bus == .defaults)
        #expect(config.worker == .defaults)
        #expect(config.acl == MeshConfig.defaultACL)
        #expect(config.nodes[1].trust == 1.0)
        #expect(config.nodes[1].voteWeight == 1)
        #expect(config.nodes[1].components.isEmpty)
    }
}
