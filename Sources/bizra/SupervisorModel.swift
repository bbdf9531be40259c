import BizraConfig
import Foundation

/// One process the supervisor keeps running: a node's core or one component instance.
struct SupervisedChild: Codable, Sendable {
    enum State: String, Codable { case starting, running, backoff, draining, stopped, missing }

    var node: String
    var component: String
    var instance: Int
    var pid: Int32 = 0
    var state: State = .starting
    var restarts = 0
    var lastExit = ""
    var startedMicros: Int64 = 0
    var nextStartMicros: Int64 = 0
    var backoffMillis = 0

    var key: String { "\(node)/\(component)#\(instance)" }
    var isCore: Bool { component == "core" }
}

/// Restart back-off: 200 ms doubling to 10 s; reset after 30 s of stable running.
enum RestartPolicy {
    static let initialMillis = 200
    static let maxMillis = 10_000
    static let stableMicros: Int64 = 30_000_000

    static func next(after previousMillis: Int, ranForMicros: Int64) -> Int {
        if ranForMicros >= stableMicros || previousMillis == 0 { return initialMillis }
        return min(previousMillis * 2, maxMillis)
    }
}
