/// Jepsen-style JSON lines: one flat object per event, e.g.
/// `{"process":0,"type":"invoke","f":"cas","key":1,"value":[3,4],"time":1200}`.
///
/// A hand-written encoder and reader for exactly this shape keep the module free of Foundation
/// and the output byte-stable (fixed field order). Unknown fields are skipped, and so are events
/// whose process is not an integer (Jepsen's `"process":"nemesis"` lines).
extension History {
    /// The history as JSON lines, one event per line.
    package func jsonLines() -> String {
        var text = ""
        for event in events {
            text += "{\"process\":\(event.process),\"type\":\"\(event.type.rawValue)\",\"f\":\"\(event.f)\""
            if let key = event.key { text += ",\"key\":\(key)" }
            text += ",\"value\":" + (event.value == .none ? "null" : event.value.description)
            if let time = event.time { text += ",\"time\":\(time)" }
            text += "}\n"
        }
        return text
    }

    /// Reads JSON lines; blank lines are skipped.
    package init(jsonLines text: String) throws(HistoryError) {
        self.init()
        var lineNumber = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\r" || $0 == "\t" }) { continue }
            do {
                var reader = FlatJSONReader(Array(line.utf8))
                if let event = try reader.readEvent() { append(event) }
            } catch {
                throw HistoryError(line: lineNumber, reason: error.reason)
            }
        }
    }
}

/// Reads one flat JSON object whose values are integers, strings, null or integer arrays.
struct FlatJSONReader {
    /// Why a line could not be read.
    struct Failure: Error { var reason: String }

    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The event on this line, or nil for a nemesis (non-integer process) event.
    mutating func readEvent() throws(Failure) -> History.Event? {
        var event = History.Event(process: -1, type: .invoke, f: "")
        var sawType = false
        var nemesis = false
        var stringValue = false
        try expect(UInt8(ascii: "{"))
        while true {
            skipSpace()
            if peek() == UInt8(ascii: "}") { break }
            let name = try readString()
            try expect(UInt8(ascii: ":"))
            switch name {
            case "process":
                skipSpace()
                if peek() == UInt8(ascii: "\"") {
                    _ = try readString()
                    nemesis = true
                } else {
                    event.process = Int(try readInt())
                }
            case "type":
                let raw = try readString()
                guard let type = History.EventType(rawValue: raw) else { throw Failure(reason: "unknown type \(raw)") }
                event.type = type
                sawType = true
            case "f": event.f = try readString()
            case "key": event.key = Int(try readInt())
            case "value":
                skipSpace()
                if peek() == UInt8(ascii: "\"") {
                    _ = try readString()
                    stringValue = true
                } else {
                    event.value = try readValue()
                }
            case "time": event.time = try readInt()
            default: try skipValue()
            }
            skipSpace()
            if peek() == UInt8(ascii: ",") { position += 1 }
        }
        if nemesis { return nil }
        if stringValue { throw Failure(reason: "string values are not supported; use integers") }
        guard event.process >= 0, sawType, !event.f.isEmpty else {
            throw Failure(reason: "an event needs process, type and f")
        }
        return event
    }

    func peek() -> UInt8? { position < bytes.count ? bytes[position] : nil }

    mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0D { position += 1 }
    }

    mutating func expect(_ byte: UInt8) throws(Failure) {
        skipSpace()
        guard peek() == byte else { throw Failure(reason: "expected '\(Character(Unicode.Scalar(byte)))'") }
        position += 1
    }

    mutating func readString() throws(Failure) -> String {
        try expect(UInt8(ascii: "\""))
        let start = position
        while let byte = peek(), byte != UInt8(ascii: "\"") {
            guard byte != UInt8(ascii: "\\") else { throw Failure(reason: "escapes are not supported") }
            position += 1
        }
        guard peek() != nil else { throw Failure(reason: "unterminated string") }
        position += 1
        return String(decoding: bytes[start..<(position - 1)], as: UTF8.self)
    }

    mutating func readInt() throws(Failure) -> Int64 {
        skipSpace()
        let negative = peek() == UInt8(ascii: "-")
        if negative { position += 1 }
        var value: Int64 = 0
        var digits = 0
        while let byte = peek(), byte >= 0x30 && byte <= 0x39 {
            let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times.addingReportingOverflow(Int64(byte - 0x30))
            guard !overflow1 && !overflow2 else { throw Failure(reason: "integer out of range") }
            value = sum
            digits += 1
            position += 1
        }
        guard digits > 0 else { throw Failure(reason: "expected an integer") }
        return negative ? -value : value
    }

    mutating func readValue() throws(Failure) -> History.Value {
        skipSpace()
        if peek() == UInt8(ascii: "n") { return try readNull() }
        guard peek() == UInt8(ascii: "[") else { return .int(try readInt()) }
        position += 1
        var items: [Int64] = []
        skipSpace()
        while peek() != UInt8(ascii: "]") {
            items.append(try readInt())
            skipSpace()
            if peek() == UInt8(ascii: ",") {
                position += 1
            } else if peek() != UInt8(ascii: "]") {
                throw Failure(reason: "expected ',' or ']'")
            }
        }
        position += 1
        return items.count == 2 ? .pair(items[0], items[1]) : .list(items)
    }

    mutating func readNull() throws(Failure) -> History.Value {
        guard bytes[position...].starts(with: Array("null".utf8)) else { throw Failure(reason: "expected null") }
        position += 4
        return .none
    }

    mutating func skipValue() throws(Failure) {
        skipSpace()
        if peek() == UInt8(ascii: "\"") {
            _ = try readString()
        } else {
            _ = try readValue()
        }
    }
}
