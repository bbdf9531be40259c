/// "Did you mean …?" for misspelt keys and component names.
///
/// Plain Levenshtein distance over Unicode scalars; a candidate is suggested only when it is
/// close relative to its length, so `prtBase` suggests `portBase` but `xyz` suggests nothing.
enum KeySuggestion {
    /// Longer inputs are not compared: no key is this long, and the cost stays bounded.
    static let maxComparedScalars = 64

    static func closest(to input: String, among candidates: [String]) -> String? {
        let typed = Array(input.lowercased().unicodeScalars)
        guard !typed.isEmpty, typed.count <= maxComparedScalars else { return nil }
        var best: (candidate: String, distance: Int)?
        for candidate in candidates {
            let distance = editDistance(typed, Array(candidate.lowercased().unicodeScalars))
            let allowed = max(1, candidate.count / 3)
            if distance <= allowed, distance < (best?.distance ?? Int.max) {
                best = (candidate, distance)
            }
        }
        return best?.candidate
    }

    static func editDistance(_ left: [Unicode.Scalar], _ right: [Unicode.Scalar]) -> Int {
        var previous = Array(0...right.count)
        for (leftIndex, leftScalar) in left.enumerated() {
            var current = [leftIndex + 1] + Array(repeating: 0, count: right.count)
            for (rightIndex, rightScalar) in right.enumerated() {
                let substitution = previous[rightIndex] + (leftScalar == rightScalar ? 0 : 1)
                current[rightIndex + 1] = min(substitution, previous[rightIndex + 1] + 1, current[rightIndex] + 1)
            }
            previous = current
        }
        return previous[right.count]
    }
}
