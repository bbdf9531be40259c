/// Settings of the links between nodes (`bizra-compression`, docs/PROTOCOL.md §9): bus-config
/// `link:`. Every node of a cluster MUST use the same `encrypt` value.
public struct LinkConfig: Sendable, Equatable {
    /// The codec policy: `auto` (compress only under backlog), `none`, `lz4` or `zstd`.
    public var codec: String
    /// The most connections each link instance keeps to each peer.
    public var poolSize: Int
    /// Encrypt links with CurveZMQ (RFC 26, over the link framing; docs/PROTOCOL.md §9.10), the
    /// nodes' `compression` keys being the permanent keys.
    public var encrypt: Bool
    /// Train a zstd dictionary on sampled traffic and send it to peers.
    public var dictionary: Bool

    public init(codec: String, poolSize: Int, encrypt: Bool, dictionary: Bool) {
        self.codec = codec
        self.poolSize = poolSize
        self.encrypt = encrypt
        self.dictionary = dictionary
    }

    /// The values used for every key the file leaves out.
    public static let defaults = LinkConfig(codec: "auto", poolSize: 2, encrypt: false, dictionary: true)
    public static let codecs = ["auto", "none", "lz4", "zstd"]
    public static let poolSizeRange = 1...2
    static let keys = ["codec", "poolSize", "encrypt", "dictionary"]

    static func read(_ node: ConfigNode) throws(ConfigError) -> LinkConfig {
        let map = try node.mapping(allowed: keys)
        return LinkConfig(
            codec: try map.optional("codec")?.string() ?? defaults.codec,
            poolSize: try map.optional("poolSize")?.int() ?? defaults.poolSize,
            encrypt: try map.optional("encrypt")?.bool() ?? defaults.encrypt,
            dictionary: try map.optional("dictionary")?.bool() ?? defaults.dictionary)
    }

    func validate(_ check: Check) throws(ConfigError) {
        guard Self.codecs.contains(codec) else {
            throw check.error(
                "codec", "codec \(Quoted.value(codec)) is not one of \(Self.codecs.joined(separator: ", "))",
                fix: "write `codec: auto` (compress only when the link is the bottleneck)")
        }
        try check.range(poolSize, Self.poolSizeRange, key: "poolSize", fix: "write 1 or 2")
    }
}

extension ConfigNode {
    func bool() throws(ConfigError) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
            ["true", "false"].contains(scalar.string)
        else {
            throw error("expected true or false, found \(kind)", fix: "write `true` or `false`", code: .wrongType)
        }
        return scalar.string == "true"
    }
}
