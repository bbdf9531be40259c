/// Builds validation errors for one part of a configuration (the key path prefix).
struct Check {
    let source: String
    var prefix: String = ""

    func nested(_ component: String) -> Check {
        Check(source: source, prefix: join(component))
    }

    func join(_ key: String) -> String {
        if prefix.isEmpty { return key }
        return key.hasPrefix("[") ? prefix + key : "\(prefix).\(key)"
    }

    func error(_ key: String, _ message: String, fix: String, code: ConfigError.Code = .invalidValue) -> ConfigError {
        ConfigError(file: source, key: join(key), message: message, fix: fix, code: code)
    }

    func range(_ value: Int, _ range: ClosedRange<Int>, key: String, fix: String) throws(ConfigError) {
        guard range.contains(value) else {
            throw error(key, "\(key) \(value) is outside \(range)", fix: fix, code: .outOfRange)
        }
    }

    func count(_ count: Int, in range: ClosedRange<Int>, key: String, what: String) throws(ConfigError) {
        guard range.contains(count) else {
            let message =
                count == 0 ? "no \(what) are listed" : "\(count) \(what) are listed, more than \(range.upperBound)"
            throw error(key, message, fix: "list \(range.lowerBound)...\(range.upperBound) \(what)", code: .outOfRange)
        }
    }

    func identifier(_ value: String, key: String, what: String) throws(ConfigError) {
        guard Identifier.isValid(value) else {
            throw error(
                key, "\(what) \(Quoted.value(value)) is not of the form \(Identifier.syntax)",
                fix: "use lower-case letters, digits and `-`, starting with a letter or digit, at most 32 characters")
        }
    }
}
