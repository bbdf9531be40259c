/// The one error type of the bus SDK: a code to switch on and a message that says what to do.
public struct BusError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case badKeyring = "bad_keyring"
        case keyFile = "key_file"
        case zmq = "zmq"
        case queueFull = "queue_full"
        case closed = "closed"
        case frameBuild = "frame_build"
        case failure = "failure"
        case timedOut = "timed_out"
        case config = "config"
    }

    public let code: Code
    public let message: String
    /// Set when a request ended in an error reply from the bus or a service.
    public let failure: BusFailure?

    public init(_ code: Code, _ message: String, failure: BusFailure? = nil) {
        self.code = code
        self.message = message
        self.failure = failure
    }

    public var description: String { message }
}
