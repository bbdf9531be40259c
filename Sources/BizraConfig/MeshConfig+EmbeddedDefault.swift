/// The default configuration compiled into every binary, so that `bizra up` works with no
/// files at all. `embeddedDefaultYAML` MUST equal `bus-config/local.yaml` byte for byte; a test
/// (`embeddedDefaultMatchesLocalYAML`) fails when they drift.
extension MeshConfig {
    /// The exact text of `bus-config/local.yaml`.
    public static let embeddedDefaultYAML: String = #"""
        # BIZRA Mesh: the embedded default configuration.
        #
        # Three nodes on 127.0.0.1, each running its link (compression: the nodes reach each other over
        # TCP through their links), a consensus member (one Raft cluster of the three nodes, weights from
        # voteWeight) and two instances of the simulated worker service.
        # `bizra up` uses this file when no --config is given: it is compiled into the binary
        # (MeshConfig.embeddedDefaultYAML), and a test keeps the two copies identical.
        # Every key is explained in bus-config/README.md.
        cluster: bizra-local
        nodes:
          - id: n1
            address: 127.0.0.1
            portBase: 17100
            zone: z1
            trust: 1.0
            voteWeight: 1
            components:
              compression: 1
              consensus: 1
              worker: 2
          - id: n2
            address: 127.0.0.1
            portBase: 17200
            zone: z2
            trust: 1.0
            voteWeight: 1
            components:
              compression: 1
              consensus: 1
              worker: 2
          - id: n3
            address: 127.0.0.1
            portBase: 17300
            zone: z3
            trust: 1.0
            voteWeight: 1
            components:
              compression: 1
              consensus: 1
              worker: 2
        # Who may publish on which topics: the first rule whose topic prefix matches decides;
        # a topic that no rule matches is denied.
        acl:
          - topic: "bus."
            publish: ["*/core"]
          - topic: "raft."
            publish: ["*/consensus"]
          - topic: ""
            publish: ["*"]
        bus:
          maxFrameBytes: 1048576
          maxBatchEnvelopes: 64
          replayWindow: 1024
          maxClockSkewMillis: 30000
          heartbeatIntervalMillis: 500
          heartbeatTimeoutMillis: 3000
          requestTimeoutMillis: 1000
          requestRetries: 5
          queueLimit: 65536
        worker:
          serviceTimeMillis: 2
          errorRate: 0.0
        keyring: null

        """#

    /// The embedded default, decoded. It is valid by construction (tested), so a failure here
    /// is a programmer error.
    public static func embeddedDefault() -> MeshConfig {
        do {
            return try decode(yaml: embeddedDefaultYAML, source: embeddedSourceName)
        } catch {
            preconditionFailure("the embedded bus-config/local.yaml is invalid: \(error)")
        }
    }
}
