/// Why a configuration was refused, written for the operator who has to fix it.
///
/// Every error names the file (or the flag, e.g. `--port-base`), the key path inside it
/// (`nodes[1].portBase`; empty for whole-file problems), what is wrong, and what to change.
/// `code` groups errors for tools and tests; the text is for people.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file, or the source such as `<embedded local.yaml>` or `--port-base`.
    public var file: String
    /// The key path, such as `nodes[1].portBase` or `acl[0].publish[2]`; empty for whole-file errors.
    public var key: String
    /// What is wrong, including the offending value where there is one.
    public var message: String
    /// What to change so that the file is accepted.
    public var fix: String
    /// The kind of problem.
    public var code: Code
    /// The 1-based line of the offending YAML, when known.
    public var line: Int?

    public init(file: String, key: String, message: String, fix: String, code: Code = .invalidValue, line: Int? = nil) {
        self.file = file
        self.key = key
        self.message = message
        self.fix = fix
        self.code = code
        self.line = line
    }

    /// `<file>: <key>: <message> (fix: <fix>)`; the key part is left out when the key is empty,
    /// and a known line is appended to the file as `<file>:<line>`.
    public var description: String {
        let location = line.map { "\(file):\($0)" } ?? file
        let keyPart = key.isEmpty ? "" : "\(key): "
        return "\(location): \(keyPart)\(message) (fix: \(fix))"
    }
}

extension ConfigError {
    /// A closed set of error kinds, open to growth without breaking callers (the swift-nio pattern).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case unreadableFile, fileTooLarge, invalidEncoding, invalidYAML, unsupportedYAML
            case unknownKey, missingKey, wrongType, outOfRange, invalidValue, duplicate, portOverlap
        }

        private let base: Base

        private init(_ base: Base) { self.base = base }

        /// The file could not be opened or read.
        public static let unreadableFile = Code(.unreadableFile)
        /// The input is larger than `MeshConfig.maxInputBytes`.
        public static let fileTooLarge = Code(.fileTooLarge)
        /// The input is not valid UTF-8.
        public static let invalidEncoding = Code(.invalidEncoding)
        /// The YAML does not parse.
        public static let invalidYAML = Code(.invalidYAML)
        /// The YAML uses a feature that bus-config refuses (anchors and aliases).
        public static let unsupportedYAML = Code(.unsupportedYAML)
        /// A key that the schema does not know, usually a typo.
        public static let unknownKey = Code(.unknownKey)
        /// A required key is absent.
        public static let missingKey = Code(.missingKey)
        /// A value has the wrong shape (a list where a number belongs, …).
        public static let wrongType = Code(.wrongType)
        /// A number outside its allowed range.
        public static let outOfRange = Code(.outOfRange)
        /// A value of the right type that is still not acceptable (a bad id, an unknown component).
        public static let invalidValue = Code(.invalidValue)
        /// Two entries that must differ do not (node ids).
        public static let duplicate = Code(.duplicate)
        /// Two nodes on one address claim overlapping port ranges.
        public static let portOverlap = Code(.portOverlap)

        public var description: String { base.rawValue }
    }
}
