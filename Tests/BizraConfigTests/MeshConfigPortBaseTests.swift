import Testing

@testable import BizraConfig

@Suite struct MeshConfigPortBaseTests {
    @Test func shiftsEveryNodeKeepingOffsets() throws {
        let moved = try MeshConfig.embeddedDefault().withPortBase(20_000)
        #expect(moved.nodes.map(\.portBase) == [20_000, 20_100, 20_200])
        #expect(moved.node("n3")?.httpPort == 20_200)
        #expect(moved.node("n3")?.linkPort(instance: 0) == 20_210)
        var expected = MeshConfig.embeddedDefault()
        for index in expected.nodes.indices { expected.nodes[index].portBase += 20_000 - 17_100 }
        #expect(moved == expected)
    }

    @Test func sameBaseIsIdentity() throws {
        let config = MeshConfig.embeddedDefault()
        #expect(try config.withPortBase(17_100) == config)
    }

    @Test func baseThatPushesALaterNodeOutOfRangeIsRefused() {
        let error = #expect(throws: ConfigError.self) { try MeshConfig.embeddedDefault().withPortBase(64_900) }
        #expect(error?.file == "--port-base")
        #expect(error?.key == "nodes[2].portBase")
        #expect(error?.code == .outOfRange)
        #expect(error?.fix.contains("1024...64800") == true)
    }

    @Test func baseBelowTheMinimumIsRefused() {
        let error = #expect(throws: ConfigError.self) { try MeshConfig.embeddedDefault().withPortBase(80) }
        #expect(error?.key == "nodes[0].portBase")
        #expect(error?.file == "--port-base")
    }

    @Test(arguments: [Int.max, Int.min, -1])
    func extremeBasesAreRefusedWithoutOverflow(base: Int) {
        #expect(throws: ConfigError.self) { try MeshConfig.embeddedDefault().withPortBase(base) }
    }
}
