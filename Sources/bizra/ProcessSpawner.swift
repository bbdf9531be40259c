import Foundation
import Glibc

/// Starting and reaping child processes with posix_spawn (Foundation's Process hides the exit
/// status handling we need for restart decisions).
enum ProcessSpawner {
    /// How a child is detached from the supervisor's terminal.
    enum Detachment {
        /// A process group of its own, so that a Ctrl-C at the terminal reaches only the
        /// supervisor, which then stops its children in reverse start order.
        case ownProcessGroup
        /// A new session, so that the child outlives this terminal (`bizra up --detach`).
        case newSession

        var flags: Int16 {
            switch self {
            case .ownProcessGroup: Int16(POSIX_SPAWN_SETPGROUP)
            case .newSession: 0x80  // POSIX_SPAWN_SETSID (glibc ≥ 2.26), not exported to Swift
            }
        }
    }

    /// Starts `path` with `arguments`, standard input from /dev/null and standard output and
    /// error appended to `logPath`.
    static func spawn(
        path: String, arguments: [String], logPath: String, detachment: Detachment = .ownProcessGroup
    ) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        posix_spawnattr_setflags(&attributes, detachment.flags)
        posix_spawnattr_setpgroup(&attributes, 0)
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for arg in argv { free(arg) } }
        var pid: pid_t = 0
        let rc = posix_spawn(&pid, path, &actions, &attributes, argv, environ)
        guard rc == 0 else {
            throw CLIError("cannot start \(path): \(String(cString: strerror(rc)))")
        }
        return pid
    }

    /// A child that has exited, with a readable description of how.
    struct Exit {
        let pid: pid_t
        let description: String
        let clean: Bool
    }

    /// Reaps every exited child without blocking.
    static func reap() -> [Exit] {
        var exits: [Exit] = []
        while true {
            var status: Int32 = 0
            let pid = waitpid(-1, &status, WNOHANG)
            guard pid > 0 else { return exits }
            let signalled = status & 0x7f
            if signalled == 0 {
                let code = (status >> 8) & 0xff
                exits.append(Exit(pid: pid, description: "exited with code \(code)", clean: code == 0))
            } else {
                exits.append(Exit(pid: pid, description: "killed by signal \(signalled)", clean: false))
            }
        }
    }

    /// The directory holding this `bizra` binary (where the other executables are built).
    static func binaryDirectory() -> String {
        let exe =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return (exe as NSString).deletingLastPathComponent
    }
}

/// An error the CLI reports to the user as is, exiting with `exitCode`.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    let exitCode: Int32

    init(_ description: String, exitCode: Int32 = 1) {
        self.description = description
        self.exitCode = exitCode
    }
}
