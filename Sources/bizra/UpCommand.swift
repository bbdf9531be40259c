import ArgumentParser
import BizraBus
import BizraConfig
import Dispatch
import Foundation

struct Up: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start the cores and components of the selected nodes under a supervisor.")

    @OptionGroup var deployment: DeploymentOptions

    @Option(name: .customLong("node"), help: "A node to run (repeatable; default: every node in the config).")
    var nodes: [String] = []

    @Option(help: "Comma-separated components to run (default: every configured one).")
    var components: String?

    @Flag(help: "Run the supervisor in the background and return once it answers.")
    var detach = false

    @Flag(help: "Do not redraw the live status table (log-friendly output).")
    var quiet = false

    func run() async throws {
        try await CLIError.reporting {
            let config = try deployment.loadConfig()
            let selected =
                try nodes.isEmpty
                ? config.nodes
                : nodes.map { id in
                    guard let node = config.node(id) else { throw CLIError("no node \(id) in the config", exitCode: 2) }
                    return node
                }
            let only = components.map {
                Set($0.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) })
            }
            for name in only ?? [] where !ComponentCatalog.isKnown(name) {
                throw CLIError(
                    "unknown component \(name); known: \(ComponentCatalog.startOrder.joined(separator: ", "))",
                    exitCode: 2)
            }
            let directory = deployment.directory
            try DataDirectory.makeDirectory(directory.root)
            if let reply = try? callSupervisor(directory, ControlRequest(op: "status"), timeoutMillis: 500) {
                throw CLIError(
                    "a supervisor (pid \(reply.status?.supervisorPID ?? 0)) already runs in \(directory.root); use `bizra down` first"
                )
            }
            if detach { return try detachSupervisor(directory) }
            let plan = Supervisor.Plan(
                config: config, nodes: selected, onlyComponents: only, directory: directory,
                configPath: deployment.absoluteConfigPath, portBase: deployment.effectivePortBase)
            try runSupervisor(plan)
        }
    }

    private func runSupervisor(_ plan: Supervisor.Plan) throws {
        let supervisor = try Supervisor(plan: plan)
        try "\(getpid())\n".write(toFile: plan.directory.supervisorPIDFile, atomically: true, encoding: .utf8)
        defer { unlink(plan.directory.supervisorPIDFile) }
        let signals = [SIGINT, SIGTERM].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { supervisor.stopRequested.store(true, ordering: .releasing) }
            source.resume()
            return source
        }
        defer { signals.forEach { $0.cancel() } }
        try supervisor.startAll()
        print(
            "BIZRA Mesh up: \(plan.nodes.map(\.id).joined(separator: ", ")) (data: \(plan.directory.root)); Ctrl-C to stop"
        )
        let display = StatusDisplay(live: !quiet && isatty(1) != 0)
        supervisor.run { display.tick($0.status()) }
        print("BIZRA Mesh stopped")
    }

    /// Re-runs `bizra up` without --detach in a new session, logging to logs/supervisor.log.
    private func detachSupervisor(_ directory: DataDirectory) throws {
        try DataDirectory.makeDirectory(directory.logsDir)
        var arguments = Array(CommandLine.arguments.dropFirst()).filter { $0 != "--detach" }
        if !arguments.contains("--data-dir") { arguments += ["--data-dir", directory.root] }
        if !arguments.contains("--quiet") { arguments.append("--quiet") }
        let pid = try ProcessSpawner.spawn(
            path: ProcessSpawner.binaryDirectory() + "/bizra", arguments: arguments,
            logPath: directory.logsDir + "/supervisor.log", detachment: .newSession)
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let reply = try? callSupervisor(directory, ControlRequest(op: "status"), timeoutMillis: 300),
                let status = reply.status, status.children.allSatisfy({ $0.state != "starting" })
            {
                print("supervisor \(pid) running in \(directory.root); `bizra status` to inspect, `bizra down` to stop")
                return
            }
            usleep(100_000)
        }
        throw CLIError("the supervisor did not answer within 30 s; see \(directory.logsDir)/supervisor.log")
    }
}

/// The live status of `bizra up` in the foreground: a table redrawn every second on a terminal,
/// or a summary line every 10 seconds otherwise.
final class StatusDisplay {
    let live: Bool
    private var lastMicros: Int64 = 0

    init(live: Bool) { self.live = live }

    func tick(_ status: SupervisorStatus) {
        let now = Clocks.monotonicMicros()
        guard now - lastMicros >= (live ? 1_000_000 : 10_000_000) else { return }
        lastMicros = now
        if live {
            print("\u{1B}[H\u{1B}[2J" + StatusTable.render(status) + "\nCtrl-C to stop")
        } else {
            let running = status.children.filter { $0.state == "running" }.count
            print(
                "status: \(running)/\(status.children.count) processes running; restarts \(status.children.reduce(0) { $0 + $1.restarts })"
            )
        }
        fflush(nil)
    }
}
