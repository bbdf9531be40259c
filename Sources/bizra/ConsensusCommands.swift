import ArgumentParser
import BizraBus
import BizraKV
import Foundation

/// `bizra consensus …`: status and operation of the Raft cluster behind the key-value store.
struct ConsensusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consensus", abstract: "Inspect and operate bizra-consensus (Raft).",
        discussion: "Exit codes: 0 ok, 3 definite failure, 4 unknown outcome.",
        subcommands: [
            StatusCommand.self, TransferLeader.self, AddMember.self, RemoveMember.self, SetWeight.self,
            ConsensusSnapshot.self,
        ])
}

extension ConsensusCommand {
    struct StatusCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract: "One member's view: leader, term, commit and applied index, Merkle root, members and weights.")
        @OptionGroup var client: ClientOptions
        @Flag(help: "Print JSON.") var json = false

        func run() async throws {
            try await CLIError.reporting {
                let status = try await ConsensusCall.send(
                    client, type: KV.RequestType.status, request: KV.Request(op: "status"), isWrite: false,
                    timeoutMillis: 3_000, as: KV.StatusReply.self)
                if json {
                    let encoder = JSONEncoder()
                    encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
                    print(String(decoding: try encoder.encode(status), as: UTF8.self))
                    return
                }
                print("node \(status.node) (id \(status.id)): \(status.role), term \(status.term)")
                print("leader: \(status.leader ?? "none known")")
                print(
                    "commit \(status.commit), applied \(status.applied), log \(status.firstIndex)...\(status.lastIndex)"
                )
                print("merkle root \(status.merkleRoot) over \(status.merkleSize) entries")
                print("kv revision \(status.revision), \(status.keys) keys")
                print("members\(status.joint ? " (joint consensus: weight = incoming, outgoing)" : ""):")
                for member in status.members {
                    let weight = member.outgoingWeight.map { "\(member.weight), \($0)" } ?? "\(member.weight)"
                    let match = member.match.map { ", match \($0)" } ?? ""
                    print("  \(member.node) (id \(member.id)) weight \(weight)\(match)")
                }
            }
        }
    }

    /// Options of the membership and leadership commands, which the leader carries out (a
    /// follower's answer names the leader, and the command asks it instead).
    struct AdminOptions: ParsableArguments {
        @OptionGroup var client: ClientOptions
        @Flag(help: "Print the service's JSON reply.") var json = false
        @Option(help: "Milliseconds to wait for the change to apply.") var timeoutMillis = 10_000

        func run(_ request: KV.Request) async throws {
            try await CLIError.reporting {
                var reply = try await ConsensusCall.send(
                    client, type: KV.RequestType.admin, request: request, isWrite: true, timeoutMillis: timeoutMillis,
                    as: KV.Reply.self)
                if reply.status == .notLeader, let leader = reply.leader {
                    reply = try await ConsensusCall.send(
                        client, type: KV.RequestType.admin, request: request, isWrite: true,
                        timeoutMillis: timeoutMillis, target: leader, as: KV.Reply.self)
                }
                KVOptions.report(reply, json: json) { _ in "OK" }
            }
        }
    }

    struct TransferLeader: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Hand leadership to NODE.")
        @OptionGroup var options: AdminOptions
        @Argument var target: String

        func run() async throws {
            var request = KV.Request(op: "transfer-leader")
            request.node = target
            try await options.run(request)
        }
    }

    struct AddMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a node declared in bus-config as a voter (weight: --weight, else its voteWeight).")
        @OptionGroup var options: AdminOptions
        @Argument var target: String
        @Option var weight: UInt64?

        func run() async throws {
            var request = KV.Request(op: "add-member")
            request.node = target
            request.weight = weight
            try await options.run(request)
        }
    }

    struct RemoveMember: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove NODE from the voters.")
        @OptionGroup var options: AdminOptions
        @Argument var target: String

        func run() async throws {
            var request = KV.Request(op: "remove-member")
            request.node = target
            try await options.run(request)
        }
    }

    struct SetWeight: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change NODE's vote weight (through joint consensus, so any two quorums intersect).")
        @OptionGroup var options: AdminOptions
        @Argument var target: String
        @Argument var weight: UInt64

        func run() async throws {
            var request = KV.Request(op: "set-weight")
            request.node = target
            request.weight = weight
            try await options.run(request)
        }
    }
}
