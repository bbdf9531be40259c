import Yams

/// Turns Yams' parser errors into `ConfigError`s with the line, on one line of text.
enum YAMLSyntaxError {
    static let fix =
        "check indentation (spaces, not tabs) and punctuation near that line; quote values that contain "
        + "`: ` or `#`, or that start with `*`, `&`, `!`, `[`, `{` or `\"`"

    static func convert(_ error: any Error, source: String) -> ConfigError {
        guard let yamlError = error as? YamlError else {
            return ConfigError(file: source, key: "", message: "invalid YAML: \(error)", fix: fix, code: .invalidYAML)
        }
        switch yamlError {
        case .scanner(let context, let problem, let mark, _), .parser(let context, let problem, let mark, _),
            .composer(let context, let problem, let mark, _):
            let while_ = context.map { " (\($0.text) from line \($0.mark.line))" } ?? ""
            return syntax("\(problem)\(while_)", line: mark.line, column: mark.column, source: source)
        case .reader(let problem, _, _, _):
            return ConfigError(
                file: source, key: "", message: "invalid YAML: \(problem)",
                fix: "remove control characters and save the file as UTF-8 text", code: .invalidYAML)
        case .duplicatedKeysInMapping(let duplicates, let context):
            let keys = duplicates.map { Quoted.value($0) }.joined(separator: ", ")
            return ConfigError(
                file: source, key: "", message: "key \(keys) appears more than once in one mapping",
                fix: "keep one of each key; merge the values", code: .duplicate, line: context.mark.line)
        default:
            return ConfigError(
                file: source, key: "", message: "invalid YAML: \(yamlError)", fix: fix, code: .invalidYAML)
        }
    }

    private static func syntax(_ problem: String, line: Int, column: Int, source: String) -> ConfigError {
        ConfigError(
            file: source, key: "", message: "invalid YAML at line \(line), column \(column): \(problem)", fix: fix,
            code: .invalidYAML, line: line)
    }
}
