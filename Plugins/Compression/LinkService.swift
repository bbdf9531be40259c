import BizraBus
import BizraConfig
import BizraCrypto
import BizraLink
import Foundation
import Logging
import Synchronization

/// One link instance of a node: the relay hand-off with the core, a listener for peers'
/// connections, outbound connections per peer opened on demand within the node-wide pool bound
/// (`LinkSlots`, `LinkPoolPolicy`), the client routes it has learned, and the zstd dictionary it
/// trains on sampled traffic and retrains as the traffic changes (`LinkDictionaryTrainer`).
///
/// Forwarding loops are impossible by construction: frames from the core go to peers, frames
/// from peers go to the core, and the core never hands a frame that came from a link back to one.
final class LinkService: @unchecked Sendable {
    let node: NodeConfig
    let instance: Int
    let bus: BusClient
    let log: Logger
    let limits = Link.Limits.defaults
    let codecMode: LinkCodecPolicy.Mode
    let poolSize: Int
    /// When dialers connect and connections close; its `poolSize` bounds the whole node.
    let pool: LinkPoolPolicy
    let slots: LinkSlots
    let peers: [String: PeerLink]
    let stopping = Atomic<Bool>(false)
    let busLimits: FrameLimits
    /// How long unacknowledged bytes may wait before the kernel fails a connection.
    let userTimeoutMillis: UInt32
    private let clientRoutes = Mutex(ClientRoutes())
    private let unroutable = Atomic<Int>(0)
    private let dictionary = Mutex<(id: UInt32, bytes: [UInt8])?>(nil)
    private let trainer: Mutex<LinkDictionaryTrainer>?
    /// Dictionaries adopted by this process so far (the generation part of their ids).
    private let dictionaryGeneration = Atomic<UInt32>(0)
    private let recorder: TrafficRecorder?
    /// This link's permanent CurveZMQ key when links are encrypted (docs/PROTOCOL.md §9.10):
    /// the node's `<node>/compression` Ed25519 key converted to Curve25519; else nil.
    let secureKey: Curve25519Box.KeyPair?
    /// Inbound connections refused before their peer was known (a failed or plain/encrypted
    /// mismatched handshake); per-peer refusals are counted in the peer's `rejectedIn`.
    let rejectedUnidentified = Atomic<Int>(0)
    /// Such refusals are logged at most one line a second,
    /// since anyone who can reach the port can cause them.
    let rejectedUnidentifiedLog = OncePerSecond()
    private let keyStore: KeyStore
    private let keyringPath: String?
    private let keyring: Mutex<Keyring>

    /// A batch's block stays under this many bytes (well inside the decoder's limit).
    var batchBytesMax: Int { 1 << 20 }
    /// Pool size: at most this many connections per peer, for the whole node.
    static let poolSizeMax = 2

    init(context: ComponentContext, settings: LinkSettings) throws {
        node = context.node
        instance = Int(context.principal.instance)
        bus = context.bus
        log = context.log
        codecMode = settings.codec
        poolSize = settings.poolSize
        pool = LinkPoolPolicy(poolSize: settings.poolSize)
        slots = try LinkSlots(
            directory: context.dataDirectory.dataDir(node: context.node.id, component: CompressionMain.component)
                + "/link-slots",
            poolSize: settings.poolSize)
        userTimeoutMillis = settings.userTimeoutMillis
        busLimits = FrameLimits(
            maxFrameBytes: context.config.bus.maxFrameBytes, maxBatchEnvelopes: context.config.bus.maxBatchEnvelopes)
        let others = context.config.nodes.filter { $0.id != context.node.id }
        peers = Dictionary(uniqueKeysWithValues: others.map { ($0.id, PeerLink(node: $0)) })
        trainer = settings.dictionary ? Mutex(LinkDictionaryTrainer(settings: settings.dictionaryTraining)) : nil
        keyStore = KeyStore(directory: context.dataDirectory)
        keyringPath = context.config.keyringPath
        keyring = Mutex(try keyStore.keyring(extraPath: context.config.keyringPath))
        secureKey =
            try settings.secure
            ? Curve25519Box.KeyPair(ed25519: keyStore.load(keyName: context.principal.keyName)) : nil
        recorder = settings.recordPath.flatMap {
            TrafficRecorder(path: "\($0)-\(context.node.id)-\(context.principal.instance)")
        }
    }

    var port: Int { node.linkPort(instance: instance) }

    /// Binds the link port, starts the dialers (which connect on demand) and the listener.
    /// Call before the bus starts, so that no frame from the core finds the link unready.
    func start() throws {
        let fd = try TCPSocket.listen(host: node.address, port: port)
        LinkListener(fd: fd, service: self, log: log).start()
        for peer in peers.values.sorted(by: { $0.node.id < $1.node.id }) {
            for index in 0..<poolSize {
                let handles = slots.handles(peer: peer.node.id)
                LinkDialer(peer: peer, index: index, slots: handles, service: self, log: log).start()
            }
        }
        bus.onRelay { [self] frame in route(frame) }
        log.info(
            "link listening",
            metadata: [
                "port": "\(port)", "peers": "\(peers.keys.sorted())", "codec": "\(codecMode.rawValue)",
                "encrypted": "\(secureKey != nil)",
            ])
    }

    func stop() {
        stopping.store(true, ordering: .relaxed)
        for peer in peers.values { peer.stop() }
    }

    // MARK: frames from the core

    /// Called on the bus IO thread for each frame the core hands the link: queue it for the
    /// peer(s) it is bound for. Only the header is read; the frame goes on unchanged.
    func route(_ frame: [UInt8]) {
        guard let parsed = try? ParsedFrame.parse(frame, limits: busLimits) else {
            unroutable.add(1, ordering: .relaxed)
            return
        }
        trainer?.withLock { $0.offer(frame) }
        recorder?.record(frame)
        switch parsed.destination {
        case .topic(_, .cluster):
            for peer in peers.values { peer.enqueue(frame) }
        case .topic(_, .local):
            unroutable.add(1, ordering: .relaxed)
        case .instance(let target) where target.node == Principal.clientNode:
            // A reply to a client of another node: back to where its frames came from. Another
            // link instance of this node may have seen them instead; then every peer gets it
            // (the nodes without that client count it `no_destination`).
            if let node = clientRoutes.withLock({ $0.node(of: target) }) {
                enqueue(frame, to: node)
            } else {
                for peer in peers.values { peer.enqueue(frame) }
            }
        case .instance(let target):
            enqueue(frame, to: target.node)
        case .service(let node, _):
            enqueue(frame, to: node)
        }
    }

    private func enqueue(_ frame: [UInt8], to node: String?) {
        guard let node, let peer = peers[node] else {
            unroutable.add(1, ordering: .relaxed)
            return
        }
        peer.enqueue(frame)
    }

    // MARK: frames from peers

    /// Hands a frame from peer `node` to the core (which verifies it). Remembers which node a
    /// client's frames come from, so that replies to it can be carried back.
    func inject(_ frame: [UInt8], from node: String) -> Bool {
        if let parsed = try? ParsedFrame.parse(frame, limits: busLimits), parsed.sender.node == Principal.clientNode {
            clientRoutes.withLock { $0.learn(parsed.sender, node: node) }
        }
        return bus.relay(frame)
    }

    // MARK: keys

    /// The public link key of `node` (`<node>/compression` in the keyrings), re-reading the
    /// keyrings once when it is missing (a key distributed after start).
    func peerPublicKey(_ node: String) -> [UInt8]? {
        let name = "\(node)/\(CompressionMain.component)"
        if let key = keyring.withLock({ $0.publicKey(for: name) }) { return key }
        guard let fresh = try? keyStore.keyring(extraPath: keyringPath) else { return nil }
        keyring.withLock { $0 = fresh }
        return fresh.publicKey(for: name)
    }

    /// The permanent CurveZMQ key of `node`: its link key from the keyring, converted.
    func peerCurveKey(_ node: String) -> [UInt8]? {
        peerPublicKey(node).flatMap { Curve25519Box.publicKey(ed25519: $0) }
    }

    /// What this link says about itself in INITIATE and READY.
    var curveMetadata: CurveZMQ.Metadata { CurveZMQ.identity(node: node.id, instance: UInt16(instance)) }

    // MARK: dictionary

    func currentDictionary() -> (id: UInt32, bytes: [UInt8])? { dictionary.withLock { $0 } }

    /// Trains a dictionary when one is due (the first once enough traffic was sampled, then
    /// every retraining interval) and adopts it when it beats the current one on held-out
    /// samples (§9.6). Off the IO threads: called from the status loop.
    func trainDictionaryIfReady() {
        guard let set = trainer?.withLock({ $0.takeIfDue(nowMillis: PeerLink.nowMillis()) }) else { return }
        guard
            let bytes = ZstdCompressor.trainDictionary(
                samples: set.training, capacityBytes: LinkDictionaryTrainer.dictionaryBytes)
        else {
            log.info("zstd dictionary training found too little structure; the current codec stays in use")
            return
        }
        let current = currentDictionary()
        let candidateRatio = LinkDictionaryTrainer.ratio(of: bytes, on: set.heldOut)
        let currentRatio = current.map { LinkDictionaryTrainer.ratio(of: $0.bytes, on: set.heldOut) }
        let figures: Logger.Metadata = [
            "candidateRatio": "\(Self.rounded(candidateRatio))",
            "currentRatio": "\(currentRatio.map { "\(Self.rounded($0))" } ?? "none")",
            "heldOut": "\(set.heldOut.count)", "samples": "\(set.training.count)",
        ]
        guard LinkDictionaryTrainer.adopts(candidateRatio: candidateRatio, currentRatio: currentRatio) else {
            log.info("zstd dictionary retrained; the current one compresses about as well, kept", metadata: figures)
            return
        }
        let generation = dictionaryGeneration.add(1, ordering: .relaxed).newValue
        let id = LinkDictionaryTrainer.dictionaryID(instance: instance, generation: generation)
        dictionary.withLock { $0 = (id, bytes) }
        var adopted = figures
        adopted["bytes"] = "\(bytes.count)"
        adopted["dictionaryID"] = "\(id)"
        if current == nil {
            log.info("zstd dictionary trained", metadata: adopted)
        } else {
            log.info("zstd dictionary retrained and adopted", metadata: adopted)
        }
    }

    private static func rounded(_ ratio: Double) -> Double { (ratio * 1000).rounded() / 1000 }

    // MARK: status

    func status(rates: [String: LinkPeerRate]) -> LinkStatus {
        let peerStatuses = peers.keys.sorted().map { id -> LinkStatus.Peer in
            let snapshot = peers[id]!.snapshot()
            var peer = LinkStatus.Peer(node: id)
            let s = snapshot.stats
            peer.connections = snapshot.connections
            peer.nodeSlotsHeld = slots.held(peer: id)
            peer.queueDepth = snapshot.queueDepth
            peer.rttMillis = snapshot.rttMicros < 0 ? nil : Double(snapshot.rttMicros) / 1000
            (peer.rawBytesOut, peer.wireBytesOut, peer.rawBytesIn, peer.wireBytesIn) =
                (s.rawBytesOut, s.wireBytesOut, s.rawBytesIn, s.wireBytesIn)
            (peer.messagesOut, peer.messagesIn) = (s.messagesOut, s.messagesIn)
            (peer.droppedUnreachable, peer.droppedOverflow, peer.droppedWriteFailed, peer.droppedInbound) =
                (s.droppedUnreachable, s.droppedOverflow, s.droppedWriteFailed, s.droppedInbound)
            peer.droppedInFlight = s.droppedInFlight
            peer.rejectedIn = s.rejectedIn
            peer.batchesOutByCodec = Dictionary(
                uniqueKeysWithValues: Link.Codec.allCases.map {
                    ($0.description, s.batchesOutByCodec[Int($0.rawValue)])
                })
            if let rate = rates[id] {
                peer.rawBytesOutPerSecond = rate.rawBytesOutPerSecond
                peer.wireBytesOutPerSecond = rate.wireBytesOutPerSecond
                peer.rawBytesInPerSecond = rate.rawBytesInPerSecond
                peer.wireBytesInPerSecond = rate.wireBytesInPerSecond
                peer.messagesOutPerSecond = rate.messagesOutPerSecond
                peer.messagesInPerSecond = rate.messagesInPerSecond
                peer.compressionRatio = rate.compressionRatio
            }
            return peer
        }
        return LinkStatus(
            node: node.id, instance: instance, port: port, codec: codecMode.rawValue,
            dictionaryID: currentDictionary()?.id ?? 0, unroutable: unroutable.load(ordering: .relaxed),
            peers: peerStatuses)
    }
}

/// Which node each remote client's frames arrived from: replies to a client of another node go
/// back there. Bounded; the oldest entry is forgotten first.
struct ClientRoutes {
    static let entriesMax = 4096
    private var routes: [Principal: String] = [:]
    private var order: [Principal] = []

    mutating func learn(_ client: Principal, node: String) {
        if routes.updateValue(node, forKey: client) == nil {
            order.append(client)
            if order.count > Self.entriesMax { routes[order.removeFirst()] = nil }
        }
    }

    func node(of client: Principal) -> String? { routes[client] }
}

/// Writes the first `framesMax` frames the link carries to a file (each a u32 big-endian
/// length and the frame), for codec benchmarks on real traffic (`bizra bench link-codec`).
/// Frames are signed bus traffic: record only test deployments.
final class TrafficRecorder: Sendable {
    static let framesMax = 20_000
    private let file: Mutex<(handle: FileHandle, count: Int)?>

    init?(path: String) {
        guard FileManager.default.createFile(atPath: path, contents: nil),
            let handle = FileHandle(forWritingAtPath: path)
        else { return nil }
        file = Mutex((handle, 0))
    }

    func record(_ frame: [UInt8]) {
        file.withLock { state in
            guard let current = state, current.count < Self.framesMax else { return }
            let length = UInt32(frame.count)
            let prefix = (0..<4).map { UInt8(truncatingIfNeeded: length >> UInt32(24 - 8 * $0)) }
            current.handle.write(Data(prefix + frame))
            state = (current.handle, current.count + 1)
        }
    }
}
