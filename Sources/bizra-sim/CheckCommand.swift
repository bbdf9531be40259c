import BizraSim

/// `bizra-sim check FILE --model M [--initial N]`: checks a JSON-lines history; exits 0 valid, 1 invalid,
/// 3 unknown (budget exhausted), 2 usage error.
func checkHistoryFile(_ options: CommandLineOptions) -> Int32 {
    guard let path = options.positional.first, let text = readFile(path) else {
        printError("check needs a readable history file")
        return 2
    }
    let history: History
    do { history = try History(jsonLines: text) } catch {
        printError("\(path): \(error)")
        return 2
    }
    let budget = options.double("budget-seconds", default: 60)
    // Registers start empty (JSON null) unless `--initial N` says otherwise; the register
    // scenario's registers start at 0.
    let initial = options.values["initial"].flatMap { Int64($0) } ?? RegisterModel.nilValue
    let start = ContinuousClock.now
    let verdict: CheckVerdict
    switch options.values["model"] ?? "cas-register" {
    case "register": verdict = linearizability(RegisterModel(initial: initial), history, budget)
    case "cas-register": verdict = linearizability(CASRegisterModel(initial: initial), history, budget)
    case "lock": verdict = linearizability(FencedLockModel(), history, budget)
    case "set": verdict = SetFullChecker().check(history).verdict
    case "counter": verdict = CounterChecker().check(history)
    case let other:
        printError("unknown model \(other)")
        return 2
    }
    print("\(path): \(history.events.count) events: \(verdict) (\(format(seconds(since: start), decimals: 3))s)")
    switch verdict {
    case .valid: return 0
    case .invalid: return 1
    case .unknown: return 3
    }
}

func linearizability<Model: LinearizabilityModel>(_ model: Model, _ history: History, _ budget: Double) -> CheckVerdict
{
    var checker = LinearizabilityChecker(model: model)
    checker.shouldStop = deadline(seconds: budget)
    return checker.check(history)
}
