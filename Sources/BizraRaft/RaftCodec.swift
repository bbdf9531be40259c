import BizraCrypto

extension Raft {
    /// The binary encoding of Raft messages and of what storage keeps (entries, hard state,
    /// snapshots). Integers are big-endian; byte strings are length-prefixed (u32). The layout is
    /// specified in docs/PROTOCOL.md ("Raft messages") for implementers in other languages.
    ///
    /// Decoding never traps: every length, count and enum value is checked against the bytes left
    /// and the limits below, and anything else is a `Raft.CodecError` naming the field.
    package enum Codec {
        /// The version byte every encoded message starts with.
        package static let version: UInt8 = 1
        /// The largest encoded message (an append batch or a snapshot chunk).
        package static let messageBytesMax = 64 * 1_024 * 1_024
        /// Entries in one append message.
        package static let entriesPerMessageMax = 1 << 20
        /// Bytes of one entry payload.
        package static let payloadBytesMax = 16 * 1_024 * 1_024
    }

    /// Why bytes did not decode: the field, and what was wrong with it.
    package struct CodecError: Error, Equatable, Sendable, CustomStringConvertible {
        package var field: String
        package var problem: String

        package init(field: String, problem: String) {
            self.field = field
            self.problem = problem
        }

        package var description: String { "malformed Raft encoding at \(field): \(problem)" }
    }
}

// MARK: Writing

extension Raft {
    /// Appends big-endian fields to a byte buffer.
    package struct ByteWriter {
        package private(set) var bytes: [UInt8] = []

        package init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

        package mutating func u8(_ value: UInt8) { bytes.append(value) }

        package mutating func u32(_ value: UInt32) {
            for shift in stride(from: 24, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift)))
            }
        }

        package mutating func u64(_ value: UInt64) {
            for shift in stride(from: 56, through: 0, by: -8) {
                bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
            }
        }

        package mutating func digest(_ value: Digest256) { bytes.append(contentsOf: value.bytes) }

        package mutating func blob(_ value: [UInt8]) {
            u32(UInt32(clamping: value.count))
            bytes.append(contentsOf: value)
        }
    }

    /// Reads big-endian fields, checking every length against what is left.
    package struct ByteReader {
        let bytes: [UInt8]
        package private(set) var offset = 0

        package init(_ bytes: [UInt8]) { self.bytes = bytes }

        package var remaining: Int { bytes.count - offset }

        mutating func take(_ count: Int, _ field: String) throws(CodecError) -> ArraySlice<UInt8> {
            guard count >= 0, count <= remaining else {
                throw CodecError(field: field, problem: "needs \(count) bytes, \(remaining) left")
            }
            defer { offset += count }
            return bytes[offset..<offset + count]
        }

        package mutating func u8(_ field: String) throws(CodecError) -> UInt8 { try take(1, field).first! }

        package mutating func u32(_ field: String) throws(CodecError) -> UInt32 {
            try take(4, field).reduce(0) { $0 << 8 | UInt32($1) }
        }

        package mutating func u64(_ field: String) throws(CodecError) -> UInt64 {
            try take(8, field).reduce(0) { $0 << 8 | UInt64($1) }
        }

        package mutating func digest(_ field: String) throws(CodecError) -> Digest256 {
            Digest256(bytes: Array(try take(32, field)))
        }

        package mutating func blob(_ field: String, max: Int) throws(CodecError) -> [UInt8] {
            let count = Int(try u32(field + ".length"))
            guard count <= max else {
                throw CodecError(field: field, problem: "\(count) bytes exceed the limit \(max)")
            }
            return Array(try take(count, field))
        }

        package func expectEnd(_ what: String) throws(CodecError) {
            guard remaining == 0 else { throw CodecError(field: what, problem: "\(remaining) trailing bytes") }
        }
    }
}

// MARK: Entries, hard state, configuration, snapshots

extension Raft.Entry {
    package func encode(into writer: inout Raft.ByteWriter) {
        writer.u64(term)
        writer.u64(index)
        writer.u8(kind.rawValue)
        writer.u64(origin.node)
        writer.u64(origin.sequence)
        writer.blob(payload)
        writer.digest(hash)
    }

    /// Decodes an entry as stored or sent; its hash is taken as given (callers check the chain).
    package static func decode(from reader: inout Raft.ByteReader) throws(Raft.CodecError) -> Raft.Entry {
        let term = try reader.u64("entry.term")
        let index = try reader.u64("entry.index")
        let kindByte = try reader.u8("entry.kind")
        guard let kind = Raft.EntryKind(rawValue: kindByte) else {
            throw Raft.CodecError(field: "entry.kind", problem: "unknown kind \(kindByte)")
        }
        let origin = Raft.ProposalID(
            node: try reader.u64("entry.origin.node"), sequence: try reader.u64("entry.origin.sequence"))
        let payload = try reader.blob("entry.payload", max: Raft.Codec.payloadBytesMax)
        let hash = try reader.digest("entry.hash")
        return Raft.Entry(term: term, index: index, kind: kind, origin: origin, payload: payload, hash: hash)
    }
}

extension Raft.HardState {
    package func encode(into writer: inout Raft.ByteWriter) {
        writer.u64(term)
        writer.u64(vote ?? 0)
        writer.u64(commit)
    }

    package static func decode(from reader: inout Raft.ByteReader) throws(Raft.CodecError) -> Raft.HardState {
        let term = try reader.u64("hardState.term")
        let vote = try reader.u64("hardState.vote")
        let commit = try reader.u64("hardState.commit")
        return Raft.HardState(term: term, vote: vote == 0 ? nil : vote, commit: commit)
    }
}

extension Raft.Configuration {
    package func encode(into writer: inout Raft.ByteWriter) {
        for half in [voters.incoming, voters.outgoing] {
            writer.u8(UInt8(half.count))
            for id in half.ids {
                writer.u64(id)
                writer.u64(half.weight(of: id) ?? 0)
            }
        }
        writer.u8(UInt8(learners.count))
        for id in learners { writer.u64(id) }
    }

    package static func decode(from reader: inout Raft.ByteReader) throws(Raft.CodecError) -> Raft.Configuration {
        var halves: [Raft.MajorityConfig] = []
        for name in ["incoming", "outgoing"] {
            let count = Int(try reader.u8("configuration.\(name).count"))
            guard count <= Raft.Limits.membersMax else {
                throw Raft.CodecError(field: "configuration.\(name).count", problem: "\(count) voters exceed the limit")
            }
            var weights: [Raft.NodeID: UInt64] = [:]
            for _ in 0..<count {
                let id = try reader.u64("configuration.\(name).id")
                let weight = try reader.u64("configuration.\(name).weight")
                guard id != 0, (1...Raft.Limits.voterWeightMax).contains(weight), weights[id] == nil else {
                    throw Raft.CodecError(field: "configuration.\(name)", problem: "voter \(id) with weight \(weight)")
                }
                weights[id] = weight
            }
            // A total beyond the quorum arithmetic's bound is refused here rather than trapping.
            let total = weights.values.reduce(0, +)
            guard total <= Raft.MajorityConfig.weightTotalMax else {
                throw Raft.CodecError(field: "configuration.\(name)", problem: "weights sum to \(total)")
            }
            halves.append(Raft.MajorityConfig(weights))
        }
        let learnerCount = Int(try reader.u8("configuration.learners.count"))
        guard learnerCount <= Raft.Limits.membersMax else {
            throw Raft.CodecError(
                field: "configuration.learners.count", problem: "\(learnerCount) learners exceed the limit")
        }
        var learners: [Raft.NodeID] = []
        for _ in 0..<learnerCount {
            let id = try reader.u64("configuration.learners.id")
            guard id != 0, !halves[0].contains(id), !halves[1].contains(id), !learners.contains(id) else {
                throw Raft.CodecError(
                    field: "configuration.learners", problem: "learner \(id) is also a voter or repeated")
            }
            learners.append(id)
        }
        guard !halves[0].isEmpty else {
            throw Raft.CodecError(field: "configuration.incoming", problem: "a configuration needs at least one voter")
        }
        return Raft.Configuration(
            voters: Raft.JointConfig(incoming: halves[0], outgoing: halves[1]), learners: learners)
    }
}

extension Raft.SnapshotMetadata {
    package func encode(into writer: inout Raft.ByteWriter) {
        writer.u64(index)
        writer.u64(term)
        writer.digest(chainHead)
        configuration.encode(into: &writer)
        writer.u64(merkle.size)
        writer.u8(UInt8(merkle.peaks.count))
        for peak in merkle.peaks { writer.digest(peak) }
        writer.digest(dataHash)
    }

    package static func decode(from reader: inout Raft.ByteReader) throws(Raft.CodecError) -> Raft.SnapshotMetadata {
        let index = try reader.u64("snapshot.index")
        let term = try reader.u64("snapshot.term")
        let chainHead = try reader.digest("snapshot.chainHead")
        let configuration = try Raft.Configuration.decode(from: &reader)
        let size = try reader.u64("snapshot.merkle.size")
        let peakCount = Int(try reader.u8("snapshot.merkle.peaks.count"))
        var peaks: [Digest256] = []
        for _ in 0..<peakCount { peaks.append(try reader.digest("snapshot.merkle.peak")) }
        guard size == index, let merkle = Raft.MerkleFrontier(size: size, peaks: peaks) else {
            throw Raft.CodecError(
                field: "snapshot.merkle", problem: "\(peakCount) peaks do not describe \(size) leaves at index \(index)"
            )
        }
        let dataHash = try reader.digest("snapshot.dataHash")
        return Raft.SnapshotMetadata(
            index: index, term: term, chainHead: chainHead, configuration: configuration, merkle: merkle,
            dataHash: dataHash)
    }
}

extension Raft.Snapshot {
    package func encode(into writer: inout Raft.ByteWriter) {
        metadata.encode(into: &writer)
        writer.blob(data)
    }

    package static func decode(from reader: inout Raft.ByteReader, dataBytesMax: Int) throws(Raft.CodecError)
        -> Raft.Snapshot
    {
        let metadata = try Raft.SnapshotMetadata.decode(from: &reader)
        let data = try reader.blob("snapshot.data", max: dataBytesMax)
        guard Raft.Snapshot.digest(of: data) == metadata.dataHash else {
            throw Raft.CodecError(field: "snapshot.data", problem: "the data does not match the snapshot's digest")
        }
        return Raft.Snapshot(metadata: metadata, data: data)
    }
}

// MARK: Messages

extension Raft.Message {
    /// The message's kind byte on the wire.
    package var kindByte: UInt8 {
        switch body {
        case .voteRequest: return 1
        case .voteResponse: return 2
        case .append: return 3
        case .appendResponse: return 4
        case .heartbeat: return 5
        case .heartbeatResponse: return 6
        case .snapshotChunk: return 7
        case .snapshotResponse: return 8
        case .timeoutNow: return 9
        case .forwardedProposals: return 10
        case .proposalsDropped: return 11
        case .readIndexRequest: return 12
        case .readIndexResponse: return 13
        case .commitNotice: return 14
        }
    }

    package var encoded: [UInt8] {
        var writer = Raft.ByteWriter(capacity: approximateBytes + 8)
        writer.u8(Raft.Codec.version)
        writer.u8(kindByte)
        writer.u64(from)
        writer.u64(to)
        writer.u64(term)
        encodeBody(into: &writer)
        return writer.bytes
    }

    private func encodeBody(into writer: inout Raft.ByteWriter) {
        func flags(_ bits: Bool...) -> UInt8 {
            bits.enumerated().reduce(0) { $0 | ($1.element ? UInt8(1) << UInt8($1.offset) : 0) }
        }
        switch body {
        case .voteRequest(let request):
            writer.u8(flags(request.preVote, request.transfer))
            writer.u64(request.lastIndex)
            writer.u64(request.lastTerm)
        case .voteResponse(let preVote, let granted):
            writer.u8(flags(preVote, granted))
        case .append(let append):
            writer.u64(append.prevIndex)
            writer.u64(append.prevTerm)
            writer.digest(append.prevHash)
            writer.u64(append.commit)
            writer.u32(UInt32(append.entries.count))
            for entry in append.entries { entry.encode(into: &writer) }
        case .appendResponse(let response):
            writer.u64(response.index)
            writer.u8(flags(response.rejected, response.chainBroken))
            writer.u64(response.hintIndex)
            writer.u64(response.hintTerm)
        case .heartbeat(let commit, let round):
            writer.u64(commit)
            writer.u64(round)
        case .heartbeatResponse(let round):
            writer.u64(round)
        case .snapshotChunk(let chunk):
            chunk.metadata.encode(into: &writer)
            writer.u64(chunk.totalBytes)
            writer.u64(chunk.offset)
            writer.blob(chunk.data)
        case .snapshotResponse(let index, let nextOffset, let done, let rejected):
            writer.u64(index)
            writer.u64(nextOffset)
            writer.u8(flags(done, rejected))
        case .timeoutNow:
            break
        case .forwardedProposals(let list):
            writer.u32(UInt32(list.count))
            for proposal in list {
                writer.u64(proposal.id.node)
                writer.u64(proposal.id.sequence)
                writer.u8(proposal.kind.rawValue)
                writer.blob(proposal.payload)
            }
        case .proposalsDropped(let ids):
            writer.u32(UInt32(ids.count))
            for id in ids {
                writer.u64(id.node)
                writer.u64(id.sequence)
            }
        case .readIndexRequest(let context):
            writer.u64(context)
        case .readIndexResponse(let context, let index):
            writer.u64(context)
            writer.u8(index == nil ? 0 : 1)
            writer.u64(index ?? 0)
        case .commitNotice(let index, let term, let hash):
            writer.u64(index)
            writer.u64(term)
            writer.digest(hash)
        }
    }

    /// Decodes a message; throws on anything malformed (never traps).
    package init(decoding bytes: [UInt8]) throws(Raft.CodecError) {
        guard bytes.count <= Raft.Codec.messageBytesMax else {
            throw Raft.CodecError(field: "message", problem: "\(bytes.count) bytes exceed the limit")
        }
        var reader = Raft.ByteReader(bytes)
        let version = try reader.u8("version")
        guard version == Raft.Codec.version else {
            throw Raft.CodecError(field: "version", problem: "version \(version), expected \(Raft.Codec.version)")
        }
        let kind = try reader.u8("kind")
        let from = try reader.u64("from")
        let to = try reader.u64("to")
        let term = try reader.u64("term")
        let body = try Raft.Message.decodeBody(kind: kind, from: &reader)
        try reader.expectEnd("message")
        self.init(from: from, to: to, term: term, body: body)
    }

    private static func flagBits(_ byte: UInt8, count: Int, _ field: String) throws(Raft.CodecError) -> [Bool] {
        guard byte >> UInt8(count) == 0 else {
            throw Raft.CodecError(field: field, problem: "unknown flag bits \(byte)")
        }
        return (0..<count).map { byte & (1 << UInt8($0)) != 0 }
    }

    private static func decodeBody(kind: UInt8, from reader: inout Raft.ByteReader) throws(Raft.CodecError) -> Body {
        switch kind {
        case 1:
            let bits = try flagBits(try reader.u8("voteRequest.flags"), count: 2, "voteRequest.flags")
            let request = Raft.VoteRequest(
                preVote: bits[0], lastIndex: try reader.u64("voteRequest.lastIndex"),
                lastTerm: try reader.u64("voteRequest.lastTerm"), transfer: bits[1])
            return .voteRequest(request)
        case 2:
            let bits = try flagBits(try reader.u8("voteResponse.flags"), count: 2, "voteResponse.flags")
            return .voteResponse(preVote: bits[0], granted: bits[1])
        case 3:
            return .append(try decodeAppend(from: &reader))
        case 4:
            let index = try reader.u64("appendResponse.index")
            let bits = try flagBits(try reader.u8("appendResponse.flags"), count: 2, "appendResponse.flags")
            let response = Raft.AppendResponse(
                index: index, rejected: bits[0], hintIndex: try reader.u64("appendResponse.hintIndex"),
                hintTerm: try reader.u64("appendResponse.hintTerm"), chainBroken: bits[1])
            return .appendResponse(response)
        case 5:
            return .heartbeat(commit: try reader.u64("heartbeat.commit"), round: try reader.u64("heartbeat.round"))
        case 6:
            return .heartbeatResponse(round: try reader.u64("heartbeatResponse.round"))
        case 7:
            let metadata = try Raft.SnapshotMetadata.decode(from: &reader)
            let total = try reader.u64("snapshotChunk.totalBytes")
            let offset = try reader.u64("snapshotChunk.offset")
            let data = try reader.blob("snapshotChunk.data", max: Raft.Codec.messageBytesMax)
            guard offset <= total, UInt64(data.count) <= total - offset else {
                throw Raft.CodecError(
                    field: "snapshotChunk", problem: "chunk \(offset)+\(data.count) exceeds \(total) bytes")
            }
            return .snapshotChunk(Raft.SnapshotChunk(metadata: metadata, totalBytes: total, offset: offset, data: data))
        case 8:
            let index = try reader.u64("snapshotResponse.index")
            let next = try reader.u64("snapshotResponse.nextOffset")
            let bits = try flagBits(try reader.u8("snapshotResponse.flags"), count: 2, "snapshotResponse.flags")
            return .snapshotResponse(index: index, nextOffset: next, done: bits[0], rejected: bits[1])
        case 9:
            return .timeoutNow
        case 10:
            return .forwardedProposals(try decodeForwarded(from: &reader))
        case 11:
            let count = Int(try reader.u32("proposalsDropped.count"))
            guard count <= reader.remaining / 16 else {
                throw Raft.CodecError(field: "proposalsDropped.count", problem: "\(count) ids do not fit")
            }
            var ids: [Raft.ProposalID] = []
            for _ in 0..<count {
                ids.append(
                    Raft.ProposalID(
                        node: try reader.u64("proposalsDropped.node"),
                        sequence: try reader.u64("proposalsDropped.sequence")))
            }
            return .proposalsDropped(ids)
        case 12:
            return .readIndexRequest(context: try reader.u64("readIndexRequest.context"))
        case 13:
            let context = try reader.u64("readIndexResponse.context")
            let has = try reader.u8("readIndexResponse.hasIndex")
            let index = try reader.u64("readIndexResponse.index")
            guard has <= 1 else { throw Raft.CodecError(field: "readIndexResponse.hasIndex", problem: "value \(has)") }
            return .readIndexResponse(context: context, index: has == 1 ? index : nil)
        case 14:
            let index = try reader.u64("commitNotice.index")
            let term = try reader.u64("commitNotice.term")
            return .commitNotice(index: index, term: term, hash: try reader.digest("commitNotice.hash"))
        default:
            throw Raft.CodecError(field: "kind", problem: "unknown message kind \(kind)")
        }
    }

    private static func decodeAppend(from reader: inout Raft.ByteReader) throws(Raft.CodecError) -> Raft.Append {
        let prevIndex = try reader.u64("append.prevIndex")
        let prevTerm = try reader.u64("append.prevTerm")
        let prevHash = try reader.digest("append.prevHash")
        let commit = try reader.u64("append.commit")
        let count = Int(try reader.u32("append.count"))
        // Each entry takes at least 69 bytes, so a count the bytes cannot hold is refused early.
        guard count <= Raft.Codec.entriesPerMessageMax, count <= reader.remaining / 69 else {
            throw Raft.CodecError(field: "append.count", problem: "\(count) entries do not fit")
        }
        var entries: [Raft.Entry] = []
        entries.reserveCapacity(count)
        for _ in 0..<count { entries.append(try Raft.Entry.decode(from: &reader)) }
        return Raft.Append(
            prevIndex: prevIndex, prevTerm: prevTerm, prevHash: prevHash, entries: entries, commit: commit)
    }

    private static func decodeForwarded(from reader: inout Raft.ByteReader) throws(Raft.CodecError) -> [Raft
        .ForwardedProposal]
    {
        let count = Int(try reader.u32("forwardedProposals.count"))
        guard count <= reader.remaining / 21 else {
            throw Raft.CodecError(field: "forwardedProposals.count", problem: "\(count) proposals do not fit")
        }
        var list: [Raft.ForwardedProposal] = []
        for _ in 0..<count {
            let id = Raft.ProposalID(
                node: try reader.u64("forwarded.node"), sequence: try reader.u64("forwarded.sequence"))
            let kindByte = try reader.u8("forwarded.kind")
            guard let kind = Raft.EntryKind(rawValue: kindByte), kind != .leaderNoop else {
                throw Raft.CodecError(field: "forwarded.kind", problem: "kind \(kindByte) cannot be proposed")
            }
            list.append(
                Raft.ForwardedProposal(
                    id: id, kind: kind, payload: try reader.blob("forwarded.payload", max: Raft.Codec.payloadBytesMax)))
        }
        return list
    }
}
