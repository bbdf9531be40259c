import ArgumentParser
import BizraBus
import BizraConfig
import Foundation

@main
struct Bizra: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bizra",
        abstract: "BIZRA Mesh: run and operate a signed-bus cluster.",
        subcommands: [
            Up.self, Down.self, Status.self, Scale.self, Keys.self, Bus.self, KVCommand.self, ConsensusCommand.self,
            VerifyProof.self, Bench.self,
        ])
}

/// Options every command that touches a deployment shares.
struct DeploymentOptions: ParsableArguments {
    @Option(help: "The bus-config YAML file (default: the embedded 3-node local config).")
    var config: String?

    @Option(help: "Runtime state directory (default: $BIZRA_HOME, else ./.bizra).")
    var dataDir: String?

    @Option(help: "Shift every node's ports so that the first node's port base is this (also BIZRA_PORT_BASE).")
    var portBase: Int?

    var directory: DataDirectory { DataDirectory.resolve(dataDir) }

    var absoluteConfigPath: String? {
        config.map { $0.hasPrefix("/") ? $0 : FileManager.default.currentDirectoryPath + "/" + $0 }
    }

    func loadConfig() throws -> MeshConfig {
        var launch = LaunchArguments()
        launch.configPath = absoluteConfigPath
        launch.portBase = portBase
        do { return try launch.loadConfig() } catch let error as ConfigError {
            throw CLIError("config error: \(error)", exitCode: 2)
        }
    }

    var effectivePortBase: Int? {
        portBase ?? ProcessInfo.processInfo.environment["BIZRA_PORT_BASE"].flatMap { Int($0) }
    }
}

/// Sends one control request to the supervisor of `directory`.
func callSupervisor(_ directory: DataDirectory, _ request: ControlRequest, timeoutMillis: Int = 3000) throws
    -> ControlReply
{
    let body = Array(try JSONEncoder().encode(request))
    guard
        let answer = ControlClient.call(
            endpoint: directory.supervisorSocket, request: body, timeoutMillis: timeoutMillis)
    else {
        throw CLIError("no supervisor answers in \(directory.root) (start one with `bizra up`)", exitCode: 1)
    }
    guard let reply = try? JSONDecoder().decode(ControlReply.self, from: Data(answer)) else {
        throw CLIError("the supervisor sent an unreadable reply")
    }
    return reply
}

extension CLIError {
    /// Runs `body`, turning a CLIError into its message on standard error and its exit code.
    static func reporting(_ body: () async throws -> Void) async throws {
        do { try await body() } catch let error as CLIError {
            FileHandle.standardError.write(Data("bizra: \(error.description)\n".utf8))
            throw ExitCode(error.exitCode)
        }
    }
}
