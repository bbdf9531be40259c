/// A scenario transcript in the etcd-io/raft `datadriven` format: commands, each followed by
/// `----` and its golden output, which ends at the next blank line.
///
/// ```
/// # A comment, kept verbatim.
/// propose 1 x
/// ----
/// 1: appended 1.1 at index 2 term 1
/// ```
///
/// Lines between a command and its `----` are the command's input (kept on rewrite; no command
/// reads any yet).
/// Comments and blank lines between steps are kept as they are when the file is rewritten.
struct RaftScenarioScript {
    struct Step {
        /// 1-based line of the command in the file.
        var line: Int
        var command: String
        var input: [String]
        var expected: [String]
    }

    enum Chunk {
        case verbatim(String)
        case step(Step)
    }

    struct ParseError: Error, CustomStringConvertible {
        var line: Int
        var problem: String
        var description: String { "line \(line): \(problem)" }
    }

    private(set) var chunks: [Chunk] = []

    var steps: [Step] {
        chunks.compactMap { chunk in
            if case .step(let step) = chunk { return step }
            return nil
        }
    }

    init(text: String) throws(ParseError) {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var position = 0
        while position < lines.count {
            let line = lines[position]
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") {
                chunks.append(.verbatim(line))
                position += 1
                continue
            }
            var step = Step(line: position + 1, command: line, input: [], expected: [])
            position += 1
            while position < lines.count, lines[position] != "----" {
                guard !lines[position].isEmpty else {
                    throw ParseError(line: step.line, problem: "command without a ---- line: \(line)")
                }
                step.input.append(lines[position])
                position += 1
            }
            guard position < lines.count else {
                throw ParseError(line: step.line, problem: "command without a ---- line: \(line)")
            }
            position += 1
            while position < lines.count, !lines[position].isEmpty {
                step.expected.append(lines[position])
                position += 1
            }
            chunks.append(.step(step))
        }
    }

    /// The file with every step's output replaced by `outputs` (in step order).
    func rendered(outputs: [[String]]) -> String {
        var lines: [String] = []
        var stepNumber = 0
        for chunk in chunks {
            switch chunk {
            case .verbatim(let line):
                lines.append(line)
            case .step(let step):
                lines.append(step.command)
                lines += step.input
                lines.append("----")
                lines += outputs[stepNumber]
                stepNumber += 1
            }
        }
        return lines.joined(separator: "\n")
    }

    /// A readable comparison of one step's expected and actual output: a line diff (longest
    /// common subsequence), `-` for expected lines missing, `+` for actual lines not expected.
    static func diff(expected: [String], actual: [String]) -> String {
        let rows = expected.count
        let columns = actual.count
        // common[i][j]: length of the longest common subsequence of expected[i...] and actual[j...].
        var common = [[Int]](repeating: [Int](repeating: 0, count: columns + 1), count: rows + 1)
        for i in stride(from: rows - 1, through: 0, by: -1) {
            for j in stride(from: columns - 1, through: 0, by: -1) {
                common[i][j] =
                    expected[i] == actual[j] ? common[i + 1][j + 1] + 1 : max(common[i + 1][j], common[i][j + 1])
            }
        }
        var out: [String] = []
        var i = 0
        var j = 0
        while i < rows || j < columns {
            if i < rows, j < columns, expected[i] == actual[j] {
                out.append("  \(expected[i])")
                i += 1
                j += 1
            } else if j < columns, i == rows || common[i][j + 1] >= common[i + 1][j] {
                out.append("+ \(actual[j])")
                j += 1
            } else {
                out.append("- \(expected[i])")
                i += 1
            }
        }
        return out.joined(separator: "\n")
    }
}
