import BizraCrypto
import Foundation

/// Private key files and the public keyring under a data directory.
///
/// A key file holds the 32-byte Ed25519 seed in hex (one line) and is created with mode 0600;
/// a file readable by group or others is refused, as ssh does.
public struct KeyStore: Sendable {
    public let directory: DataDirectory

    public init(directory: DataDirectory) { self.directory = directory }

    /// The key pair filed under `keyName`, created if missing (and then added to the keyring).
    @discardableResult
    public func loadOrCreate(keyName: String) throws(BusError) -> Ed25519.KeyPair {
        let path = directory.keyPath(keyName: keyName)
        if FileManager.default.fileExists(atPath: path) { return try load(keyName: keyName) }
        let seed = SecureRandom.bytes(Ed25519.seedBytes)
        let pair: Ed25519.KeyPair
        do { pair = try Ed25519.KeyPair(seed: seed) } catch { throw BusError(.keyFile, error.description) }
        try DataDirectory.makeDirectory((path as NSString).deletingLastPathComponent)
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw BusError(.keyFile, "cannot create \(path): \(String(cString: strerror(errno)))") }
        let line = Array((Hex.encode(seed) + "\n").utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == line.count else { throw BusError(.keyFile, "short write to \(path)") }
        try addToKeyring(name: keyName, publicKey: pair.publicKey)
        return pair
    }

    /// The key pair filed under `keyName`; a missing, unreadable, loose or damaged file is an error.
    public func load(keyName: String) throws(BusError) -> Ed25519.KeyPair {
        let path = directory.keyPath(keyName: keyName)
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw BusError(.keyFile, "no key file \(path) (create it with `bizra keys gen` or let `bizra up` do it)")
        }
        guard info.st_mode & 0o077 == 0 else {
            throw BusError(
                .keyFile,
                "\(path) is readable by others (mode \(String(info.st_mode & 0o777, radix: 8))); run chmod 600 \(path)")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
            let seed = try? Hex.decode(text.trimmingSpaces().replacingOccurrences(of: "\n", with: "")),
            let pair = try? Ed25519.KeyPair(seed: seed)
        else { throw BusError(.keyFile, "\(path) is not a key file (expected 64 hex digits)") }
        return pair
    }

    /// The data directory's keyring merged with `extraPath` (a distributed keyring from bus-config).
    public func keyring(extraPath: String? = nil) throws(BusError) -> Keyring {
        var ring = try Self.readKeyring(path: directory.keyringPath, missingIsEmpty: true)
        if let extraPath { ring.merge(try Self.readKeyring(path: extraPath, missingIsEmpty: false)) }
        return ring
    }

    static func readKeyring(path: String, missingIsEmpty: Bool) throws(BusError) -> Keyring {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            if missingIsEmpty && !FileManager.default.fileExists(atPath: path) { return Keyring() }
            throw BusError(.badKeyring, "cannot read keyring \(path)")
        }
        return try Keyring.parse(text, source: path)
    }

    /// Adds a public key to the data directory's keyring (atomic rewrite, under a lock file so
    /// that concurrent `bizra` processes do not lose each other's keys).
    public func addToKeyring(name: String, publicKey: [UInt8]) throws(BusError) {
        try DataDirectory.makeDirectory(directory.root)
        let lockPath = directory.root + "/keyring.lock"
        let lock = open(lockPath, O_RDWR | O_CREAT, 0o600)
        guard lock >= 0 else { throw BusError(.keyFile, "cannot open \(lockPath)") }
        defer { close(lock) }
        flock(lock, LOCK_EX)
        defer { flock(lock, LOCK_UN) }
        var ring = try Self.readKeyring(path: directory.keyringPath, missingIsEmpty: true)
        ring.add(name: name, publicKey: publicKey)
        let temporary = directory.keyringPath + ".tmp"
        do {
            try ring.serialized().write(toFile: temporary, atomically: false, encoding: .utf8)
            guard rename(temporary, directory.keyringPath) == 0 else { throw BusError(.keyFile, "rename failed") }
        } catch {
            throw BusError(.keyFile, "cannot write keyring \(directory.keyringPath): \(error)")
        }
    }
}
