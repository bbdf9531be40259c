/// The one error type of BizraWAL: what went wrong, in which file and at which offset, and what
/// an operator can do about it.
package struct StorageError: Error, CustomStringConvertible, Sendable {
    package enum Code: String, Sendable {
        /// A system call failed (the errno is in the message).
        case io
        /// A record other than the last one is damaged: the node MUST NOT serve from this data.
        case corrupt
        /// The data directory holds files that do not fit together (a WAL ahead of its snapshot).
        case inconsistent
    }

    package var code: Code
    package var file: String
    package var offset: Int
    package var message: String

    package init(_ code: Code, file: String, offset: Int = 0, _ message: String) {
        self.code = code
        self.file = file
        self.offset = offset
        self.message = message
    }

    package var description: String {
        switch code {
        case .io: return "\(file): \(message)"
        case .corrupt:
            return
                "\(file) at offset \(offset): \(message). The node refuses to serve from damaged data: restore this node from a snapshot (`bizra consensus snapshot restore`) or remove its data directory so that it rejoins and catches up from the leader."
        case .inconsistent:
            return
                "\(file): \(message). Restore the data directory from a backup, or remove it so that the node catches up from the leader."
        }
    }
}
