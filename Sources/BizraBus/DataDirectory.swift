import Foundation

/// Where a deployment's runtime state lives: keys, sockets, logs, PIDs and component data, all
/// under one directory (`--data-dir`, else `$BIZRA_HOME`, else `./.bizra`).
///
/// Layout:
/// ```
/// keys/<node>/<component>.key   private keys (hex), mode 0600
/// keys/client/<name>.key        client identities
/// keyring.yaml                  public keys of everything above
/// run/<node>/{router,pub,sub}.sock   the node core's ipc endpoints
/// logs/<node>-<component>-<instance>.log
/// data/<node>/<component>/      component state (WALs, snapshots)
/// supervisor.sock, supervisor.pid
/// ```
public struct DataDirectory: Sendable, Equatable {
    public let root: String

    public init(root: String) {
        self.root = root.hasPrefix("/") ? root : FileManager.default.currentDirectoryPath + "/" + root
    }

    /// `explicit`, else `$BIZRA_HOME`, else `./.bizra`.
    public static func resolve(_ explicit: String?) -> DataDirectory {
        if let explicit, !explicit.isEmpty { return DataDirectory(root: explicit) }
        if let home = ProcessInfo.processInfo.environment["BIZRA_HOME"], !home.isEmpty {
            return DataDirectory(root: home)
        }
        return DataDirectory(root: ".bizra")
    }

    public var keysDir: String { root + "/keys" }
    public var keyringPath: String { root + "/keyring.yaml" }
    public var logsDir: String { root + "/logs" }
    public var supervisorSocket: String { "ipc://" + root + "/supervisor.sock" }
    public var supervisorPIDFile: String { root + "/supervisor.pid" }

    public func keyPath(keyName: String) -> String { keysDir + "/" + keyName + ".key" }
    public func runDir(node: String) -> String { root + "/run/" + node }
    public func dataDir(node: String, component: String) -> String { root + "/data/\(node)/\(component)" }
    public func logPath(node: String, component: String, instance: Int) -> String {
        logsDir + "/\(node)-\(component)-\(instance).log"
    }

    public func endpoints(node: String) -> CoreEndpoints {
        let dir = runDir(node: node)
        return CoreEndpoints(
            router: "ipc://\(dir)/router.sock", publish: "ipc://\(dir)/pub.sock", subscribe: "ipc://\(dir)/sub.sock")
    }

    /// Creates `path` and its parents with mode 0700.
    public static func makeDirectory(_ path: String) throws(BusError) {
        do {
            try FileManager.default.createDirectory(
                atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw BusError(.keyFile, "cannot create directory \(path): \(error.localizedDescription)")
        }
    }
}

/// A core's three ipc endpoints: ROUTER for directed frames, XSUB where components publish,
/// XPUB where they subscribe.
public struct CoreEndpoints: Sendable, Equatable {
    public var router: String
    public var publish: String
    public var subscribe: String
}
