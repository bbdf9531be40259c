import Yams

/// A YAML node together with where it sits: the source name and the key path.
///
/// Decoding walks the document through these so that every error can name the exact key
/// (`nodes[1].portBase`) and line, and so that scalars are typed strictly: `portBase: "17100"`
/// is refused rather than silently converted, because a config that means something other
/// than what it says is worse than one that fails to load.
struct ConfigNode {
    let node: Node
    let source: String
    let path: String

    var line: Int? { node.mark?.line }

    /// A plain scalar that YAML reads as null (`~`, `null`, or nothing at all).
    var isNull: Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    func error(_ message: String, fix: String, code: ConfigError.Code) -> ConfigError {
        ConfigError(file: source, key: path, message: message, fix: fix, code: code, line: line)
    }

    func child(_ component: String, node: Node) -> ConfigNode {
        ConfigNode(node: node, source: source, path: path.isEmpty ? component : "\(path).\(component)")
    }

    /// The kind of node, for "expected X, found Y" messages.
    var kind: String {
        switch node {
        case .scalar(let scalar): return isNull ? "nothing (null)" : "the text \(Quoted.value(scalar.string))"
        case .mapping: return "a mapping (`key: value` lines)"
        case .sequence: return "a list"
        case .alias: return "an alias"
        }
    }
}

// MARK: - Scalars

extension ConfigNode {
    func string() throws(ConfigError) -> String {
        guard case .scalar(let scalar) = node, !isNull else {
            throw error("expected text, found \(kind)", fix: "write a single value after the colon", code: .wrongType)
        }
        return scalar.string
    }

    func int() throws(ConfigError) -> Int {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else {
            let fix = "write an unquoted whole number, e.g. `\(path.split(separator: ".").last ?? ""): 1000`"
            throw error("expected a whole number, found \(kind)", fix: fix, code: .wrongType)
        }
        guard let value = Int(scalar.string) else {
            let tooLarge = scalar.string.allSatisfy { $0.isNumber || $0 == "-" || $0 == "+" } && !scalar.string.isEmpty
            let message =
                tooLarge
                ? "the number \(Quoted.value(scalar.string)) is too large" : "expected a whole number, found \(kind)"
            throw error(
                message, fix: "write a whole number in decimal digits, without units or a decimal point",
                code: .wrongType)
        }
        return value
    }

    func double() throws(ConfigError) -> Double {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any,
            let value = Double(scalar.string), value.isFinite
        else {
            throw error(
                "expected a number, found \(kind)", fix: "write an unquoted decimal number such as 0.5",
                code: .wrongType)
        }
        return value
    }
}

// MARK: - Collections

extension ConfigNode {
    func sequence() throws(ConfigError) -> [ConfigNode] {
        guard case .sequence(let sequence) = node else {
            throw error(
                "expected a list, found \(kind)", fix: "write a list, one `- item` per line or `[a, b]`",
                code: .wrongType)
        }
        return sequence.enumerated().map { index, item in
            ConfigNode(node: item, source: source, path: "\(path)[\(index)]")
        }
    }

    /// The mapping's entries, refusing non-text keys and keys outside `allowed`.
    func mapping(allowed: [String]?) throws(ConfigError) -> ConfigMapping {
        guard case .mapping(let mapping) = node else {
            throw error(
                "expected a mapping of `key: value` lines, found \(kind)",
                fix: "indent `key: value` lines under this key", code: .wrongType)
        }
        var entries: [(key: String, value: ConfigNode)] = []
        for (keyNode, valueNode) in mapping {
            guard case .scalar(let keyScalar) = keyNode else {
                let keyPath = ConfigNode(node: keyNode, source: source, path: path)
                throw keyPath.error(
                    "a key here is \(keyPath.kind), not a name", fix: "use plain names as keys", code: .wrongType)
            }
            let key = keyScalar.string
            if let allowed, !allowed.contains(key) {
                throw unknownKey(key, allowed: allowed, line: keyNode.mark?.line)
            }
            entries.append((key, child(key, node: valueNode)))
        }
        return ConfigMapping(owner: self, entries: entries)
    }

    private func unknownKey(_ key: String, allowed: [String], line: Int?) -> ConfigError {
        let place = path.isEmpty ? "at the top level" : "in \(path)"
        var message = "unknown key \(Quoted.value(key)) \(place)"
        if let suggestion = KeySuggestion.closest(to: key, among: allowed) {
            message += "; did you mean `\(suggestion)`?"
        }
        let fix = "use one of: \(allowed.joined(separator: ", "))"
        return ConfigError(
            file: source, key: path, message: message, fix: fix, code: .unknownKey, line: line ?? self.line)
    }
}

/// The entries of one mapping, looked up by key.
struct ConfigMapping {
    let owner: ConfigNode
    let entries: [(key: String, value: ConfigNode)]

    /// The value of `key`, or nil if the key is absent or null.
    func optional(_ key: String) -> ConfigNode? {
        guard let value = entries.first(where: { $0.key == key })?.value, !value.isNull else { return nil }
        return value
    }

    func required(_ key: String, example: String) throws(ConfigError) -> ConfigNode {
        if let value = optional(key) { return value }
        let place = owner.path.isEmpty ? "at the top level" : "in \(owner.path)"
        let state = entries.contains { $0.key == key } ? "has no value" : "is missing"
        throw ConfigError(
            file: owner.source, key: owner.child(key, node: owner.node).path,
            message: "required key `\(key)` \(state) \(place)", fix: "add `\(key): \(example)`", code: .missingKey,
            line: owner.line)
    }
}

/// Echoes user input in messages, shortened so that a 1 MiB key cannot flood a terminal.
enum Quoted {
    static let maxCharacters = 64

    static func value(_ text: String) -> String {
        let shown = text.count > maxCharacters ? text.prefix(maxCharacters) + "…" : Substring(text)
        return "`" + shown.unicodeScalars.map(visible).joined() + "`"
    }

    /// Control and format characters are shown escaped so that they cannot rewrite the terminal.
    private static func visible(_ scalar: Unicode.Scalar) -> String {
        switch scalar.properties.generalCategory {
        case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .privateUse, .unassigned:
            return "\\u{\(String(scalar.value, radix: 16))}"
        default:
            return String(scalar)
        }
    }
}
