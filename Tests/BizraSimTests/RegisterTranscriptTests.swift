import Testing

@testable import BizraSim

/// Scripted, non-random runs of the register that read like a transcript: one write, a leader
/// crash before its fsync, a read after the restart. They pin down the crash-loses-unsynced-
/// writes path and the checker's verdict without depending on what a random seed happens to do.
@Suite struct RegisterTranscriptTests {
    /// Client `i` sends `script[i].request` to the node at `script[i].at`; every reply is recorded.
    struct ScriptedClients: SimWorkload {
        typealias Node = ReplicatedRegisterNode
        var script: [(at: SimTime, request: ReplicatedRegister.Request)]
        var history = History()

        mutating func start(_ sim: inout Simulator<Node>) {
            for (index, step) in script.enumerated() { sim.wakeClient(index, after: step.at) }
        }

        mutating func wake(client: Int, _ sim: inout Simulator<Node>) {
            let request = script[client].request
            history.append(
                .init(
                    process: client, type: .invoke, f: request.functionName, key: request.key,
                    value: request.invokeValue))
            _ = sim.submit(request, to: ReplicatedRegister.leader, client: client)
        }

        mutating func replied(
            client: Int, id: RequestID, response: ReplicatedRegister.Response, _ sim: inout Simulator<Node>
        ) {
            let (type, value) = RegisterWorkload.completion(of: script[client].request, response)
            history.append(
                .init(
                    process: client, type: type, f: script[client].request.functionName,
                    key: script[client].request.key, value: value))
        }
    }

    /// Write 5 at t=0; the leader crashes at t=500, before the 1,000 µs fsync, losing the write
    /// (no unsynced write survives in this run); it restarts at t=600; a read at t=2,000.
    func run(bug: ReplicatedRegister.Bug) -> (history: History, read: History.Value?) {
        var settings = SimSettings(clusterSize: 3, seed: 1)
        settings.clientLatency = 10...10
        settings.diskLatency = 1_000...1_000
        settings.crashKeepsSomeUnsyncedPerMillion = 0
        var config = ReplicatedRegister.Config()
        config.bug = bug
        var sim = Simulator<ReplicatedRegisterNode>(settings: settings, nodeConfig: config)
        sim.schedule(fault: .crash(ReplicatedRegister.leader), at: 500)
        sim.schedule(fault: .restart(ReplicatedRegister.leader), at: 600)
        var clients = ScriptedClients(script: [(0, .write(key: 0, value: 5)), (2_000, .read(key: 0))])
        clients.start(&sim)
        sim.run(until: 10_000, workload: &clients)
        let read = clients.history.events.last { $0.f == "read" && $0.type == .ok }?.value
        return (clients.history, read)
    }

    @Test func correctLeaderNeverAcknowledgedTheLostWrite() {
        let (history, read) = run(bug: .none)
        #expect(read == .int(0))
        #expect(!history.events.contains { $0.f == "write" && $0.type == .ok })
        #expect(checkRegister(history) == .valid)  // the write stays open: indeterminate
    }

    @Test func ackBeforeDurableLosesAnAcknowledgedWriteAndTheCheckerSaysSo() {
        let (history, read) = run(bug: .ackBeforeDurable)
        #expect(history.events.contains { $0.f == "write" && $0.type == .ok })
        #expect(read == .int(0))
        #expect(checkRegister(history).isInvalid)
    }
}
