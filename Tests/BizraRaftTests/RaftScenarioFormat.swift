import BizraCrypto

@testable import BizraRaft

/// How the scenario transcripts print the core's values: one short, stable line each.
enum RaftScenarioFormat {
    /// `1->2 app term=2 prev=3/1 commit=3 [4/2 noop, 5/2 "x"]`; the second word is the message
    /// type that `deliver type=…` and `drop type=…` match.
    static func message(_ message: Raft.Message) -> String {
        "\(message.from)->\(message.to) \(messageType(message.body)) term=\(message.term)\(messageDetail(message.body))"
    }

    static func messageType(_ body: Raft.Message.Body) -> String {
        switch body {
        case .voteRequest(let request): return request.preVote ? "pre-vote" : "vote"
        case .voteResponse(let preVote, _): return preVote ? "pre-vote-resp" : "vote-resp"
        case .append: return "app"
        case .appendResponse: return "app-resp"
        case .heartbeat: return "heartbeat"
        case .heartbeatResponse: return "heartbeat-resp"
        case .snapshotChunk: return "snap"
        case .snapshotResponse: return "snap-resp"
        case .timeoutNow: return "timeout-now"
        case .forwardedProposals: return "forward"
        case .proposalsDropped: return "proposals-dropped"
        case .readIndexRequest: return "read-index"
        case .readIndexResponse: return "read-index-resp"
        case .commitNotice: return "commit-notice"
        }
    }

    private static func messageDetail(_ body: Raft.Message.Body) -> String {
        switch body {
        case .voteRequest(let request):
            return " last=\(request.lastIndex)/\(request.lastTerm)\(request.transfer ? " transfer" : "")"
        case .voteResponse(_, let granted):
            return granted ? " granted" : " rejected"
        case .append(let append):
            return " prev=\(append.prevIndex)/\(append.prevTerm) commit=\(append.commit) \(entryList(append.entries))"
        case .appendResponse(let response):
            guard response.rejected else { return " index=\(response.index)" }
            let broken = response.chainBroken ? " chain-broken" : ""
            return " rejected index=\(response.index) hint=\(response.hintIndex)/\(response.hintTerm)\(broken)"
        case .heartbeat(let commit, let round):
            return " commit=\(commit) round=\(round)"
        case .heartbeatResponse(let round):
            return " round=\(round)"
        case .snapshotChunk(let chunk):
            let end = chunk.offset + UInt64(chunk.data.count)
            return
                " index=\(chunk.metadata.index)/\(chunk.metadata.term) bytes=\(chunk.offset)..<\(end) of \(chunk.totalBytes)"
        case .snapshotResponse(let index, let nextOffset, let done, let rejected):
            return " index=\(index) next=\(nextOffset)\(done ? " done" : "")\(rejected ? " rejected" : "")"
        case .timeoutNow:
            return ""
        case .forwardedProposals(let list):
            return " [" + list.map { "\($0.id) \(payload($0.payload, kind: $0.kind))" }.joined(separator: ", ") + "]"
        case .proposalsDropped(let ids):
            return " [" + ids.map(\.description).joined(separator: ", ") + "]"
        case .readIndexRequest(let context):
            return " ctx=\(context)"
        case .readIndexResponse(let context, let index):
            return " ctx=\(context) " + (index.map { "index=\($0)" } ?? "refused")
        case .commitNotice(let index, let term, _):
            return " index=\(index)/\(term)"
        }
    }

    /// Up to three entries in full, else the first and the last and a count.
    static func entryList(_ entries: [Raft.Entry]) -> String {
        if entries.count <= 3 { return "[" + entries.map(entry).joined(separator: ", ") + "]" }
        return "[\(entry(entries.first!)) … \(entry(entries.last!))] \(entries.count) entries"
    }

    /// `5/2 "x"`, `4/2 noop`, `6/2 conf(add-voter 4:1)`.
    static func entry(_ entry: Raft.Entry) -> String {
        "\(entry.index)/\(entry.term) \(payload(entry.payload, kind: entry.kind))"
    }

    static func payload(_ bytes: [UInt8], kind: Raft.EntryKind) -> String {
        switch kind {
        case .leaderNoop: return "noop"
        case .configChange:
            guard let change = Raft.ConfigChange(decoding: bytes) else { return "conf(malformed)" }
            return "conf(\(configChange(change)))"
        case .normal:
            return text(bytes)
        }
    }

    /// Printable ASCII up to 24 bytes in quotes, else a byte count.
    static func text(_ bytes: [UInt8]) -> String {
        if bytes.count <= 24, bytes.allSatisfy({ (0x21...0x7E).contains($0) && $0 != 0x22 }) {
            return "\"" + String(decoding: bytes, as: UTF8.self) + "\""
        }
        return "<\(bytes.count) bytes>"
    }

    static func configChange(_ change: Raft.ConfigChange) -> String {
        switch change {
        case .leaveJoint: return "leave-joint"
        case .change(let steps): return steps.map(configStep).joined(separator: " ")
        }
    }

    static func configStep(_ step: Raft.ConfigChangeStep) -> String {
        switch step {
        case .addVoter(let id, let weight): return "add-voter=\(id):\(weight)"
        case .addLearner(let id): return "add-learner=\(id)"
        case .remove(let id): return "remove=\(id)"
        case .setWeight(let id, let weight): return "set-weight=\(id):\(weight)"
        }
    }

    static func event(_ event: Raft.Event) -> String {
        switch event {
        case .becameLeader(let term): return "became leader at term \(term)"
        case .steppedDown(let reason): return "stepped down: \(reason)"
        case .departureStarted(let index): return "removed by the entry at \(index); handing over"
        case .commitLearned(let index): return "commit index \(index) learned from a removed member"
        case .campaignStarted(let term, let preVote):
            return "\(preVote ? "pre-vote campaign" : "campaign") for term \(term)"
        case .configurationApplied(let configuration, let index): return "config applied at \(index): \(configuration)"
        case .configurationRefused(let index, let reason): return "config refused at \(index): \(reason)"
        case .snapshotInstalled(let index): return "snapshot installed at \(index)"
        case .snapshotRefused(let reason): return "snapshot refused: \(reason)"
        case .chainBroken(let index): return "chain broken after \(index)"
        case .transferStarted(let target): return "transfer to \(target) started"
        case .transferAborted(let target): return "transfer to \(target) aborted"
        case .leaseRead: return "read served by the lease"
        case .compacted(let through): return "compacted through \(through)"
        }
    }

    static func outcome(_ outcome: Raft.ProposalOutcome) -> String {
        switch outcome.result {
        case .committed(let index): return "proposal \(outcome.id) committed at \(index)"
        case .dropped(let reason): return "proposal \(outcome.id) dropped: \(reason)"
        case .unknown(let reason): return "proposal \(outcome.id) unknown: \(reason)"
        }
    }

    static func read(_ read: Raft.ReadResult) -> String {
        if let index = read.index { return "read ctx=\(read.context) at index \(index)" }
        return "read ctx=\(read.context) refused: \(read.refusal ?? "?")"
    }

    static func write(_ write: Raft.StorageWrite) -> String {
        var parts = ["write #\(write.token)"]
        if let hardState = write.hardState {
            parts.append(
                "term=\(hardState.term) vote=\(hardState.vote.map(String.init) ?? "-") commit=\(hardState.commit)")
        }
        if let snapshot = write.snapshot { parts.append("snapshot=\(snapshot.metadata.index)") }
        if let first = write.entries.first, let last = write.entries.last {
            parts.append("entries=\(first.index)..\(last.index)")
        }
        return parts.joined(separator: " ")
    }

    static func hashPrefix(_ digest: Digest256) -> String { String(digest.hex.prefix(8)) }
}
