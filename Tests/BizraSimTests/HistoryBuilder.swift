@testable import BizraSim

/// Builds hand-made histories tersely: `h.invoke(0, "write", 1)`, `h.ok(0, "write", 1)`.
struct HistoryBuilder {
    var history = History()

    mutating func invoke(_ process: Int, _ f: String, _ value: History.Value = .none, key: Int? = nil) {
        history.append(.init(process: process, type: .invoke, f: f, key: key, value: value))
    }

    mutating func ok(_ process: Int, _ f: String, _ value: History.Value = .none, key: Int? = nil) {
        history.append(.init(process: process, type: .ok, f: f, key: key, value: value))
    }

    mutating func fail(_ process: Int, _ f: String, _ value: History.Value = .none, key: Int? = nil) {
        history.append(.init(process: process, type: .fail, f: f, key: key, value: value))
    }

    mutating func info(_ process: Int, _ f: String, _ value: History.Value = .none, key: Int? = nil) {
        history.append(.init(process: process, type: .info, f: f, key: key, value: value))
    }

    /// A whole operation with no overlap: invoke then ok.
    mutating func op(_ process: Int, _ f: String, _ input: History.Value, _ output: History.Value, key: Int? = nil) {
        invoke(process, f, input, key: key)
        ok(process, f, output, key: key)
    }
}

func checkRegister(_ history: History, cas: Bool = true) -> CheckVerdict {
    if cas { return LinearizabilityChecker(model: CASRegisterModel(initial: 0)).check(history) }
    return LinearizabilityChecker(model: RegisterModel(initial: 0)).check(history)
}
