import Testing

@testable import BizraConfig

/// Shapes, types, required and unknown keys, and malformed YAML.
@Suite struct ConfigDecodingTests {
    @Test func unknownTopLevelKeySuggestsTheClosest() {
        let error = expectRefusal("clustr: x\n" + twoNodeYAML, key: "", code: .unknownKey)
        #expect(error?.message.contains("did you mean `cluster`?") == true)
        #expect(error?.fix.contains("nodes") == true)
        #expect(error?.line == 1)
    }

    @Test func unknownNodeKeyNamesTheNodeAndSuggests() {
        let yaml = twoNodeYAML.replacing("    portBase: 17200", with: "    prtBase: 17200")
        let error = expectRefusal(yaml, key: "nodes[1]", code: .unknownKey)
        #expect(error?.message == "unknown key `prtBase` in nodes[1]; did you mean `portBase`?")
    }

    @Test(arguments: [
        ("bus:\n  maxFrameByte: 2048\n", "bus", "maxFrameBytes"),
        ("worker:\n  errorrate: 0.1\n", "worker", "errorRate"),
        ("acl:\n  - topics: \"a.\"\n    publish: [\"*\"]\n", "acl[0]", "topic"),
    ])
    func unknownNestedKeysAreRefused(section: String, key: String, suggestion: String) {
        let error = expectRefusal(twoNodeYAML + "\n" + section, key: key, code: .unknownKey)
        #expect(error?.message.contains("did you mean `\(suggestion)`") == true)
    }

    @Test func unrelatedUnknownKeyHasNoSuggestion() {
        let error = expectRefusal(twoNodeYAML + "\nxyzzy: 1\n", key: "", code: .unknownKey)
        #expect(error?.message.contains("did you mean") == false)
    }

    @Test(arguments: [
        ("cluster: test\n", "cluster: \n", "cluster"),
        ("    address: 127.0.0.1\n    portBase: 17200", "    portBase: 17200", "nodes[1].address"),
        ("    portBase: 17200\n", "", "nodes[1].portBase"),
        ("    zone: z2", "    zone:", "nodes[1].zone"),
        ("  - id: n2\n", "  - idd: n2\n", "nodes[1]"),
    ])
    func missingRequiredKeysAreNamed(target: String, replacement: String, key: String) {
        let yaml = twoNodeYAML.replacing(target, with: replacement)
        let error = refusal(yaml)
        #expect(error?.key == key, "\(String(describing: error))")
    }

    @Test func missingNodesIsRefused() {
        let error = expectRefusal("cluster: x\n", key: "nodes", code: .missingKey)
        #expect(error?.fix.contains("portBase") == true)
    }

    @Test(arguments: [
        ("portBase: 17200", "portBase: \"17200\"", "nodes[1].portBase"),
        ("portBase: 17200", "portBase: 17200.5", "nodes[1].portBase"),
        ("portBase: 17200", "portBase: [17200]", "nodes[1].portBase"),
        ("zone: z2", "zone: {a: b}", "nodes[1].zone"),
        ("zone: z2", "zone: z2\n    trust: high", "nodes[1].trust"),
        ("zone: z2", "zone: z2\n    trust: .nan", "nodes[1].trust"),
        ("worker: 2", "worker: many", "nodes[0].components.worker"),
        ("    components:\n      worker: 2", "    components: [worker]", "nodes[0].components"),
    ])
    func wrongTypesAreRefused(target: String, replacement: String, key: String) {
        expectRefusal(twoNodeYAML.replacing(target, with: replacement), key: key, code: .wrongType)
    }

    @Test func nodesMustBeAList() {
        let yaml = "cluster: x\nnodes:\n  n1: {address: 127.0.0.1}\n"
        let error = expectRefusal(yaml, key: "nodes", code: .wrongType)
        #expect(error?.fix.contains("- item") == true)
    }

    @Test func hugeNumbersAreTooLargeNotCrashes() {
        let yaml = twoNodeYAML.replacing("portBase: 17200", with: "portBase: 99999999999999999999999")
        let error = expectRefusal(yaml, key: "nodes[1].portBase", code: .wrongType)
        #expect(error?.message.contains("too large") == true)
    }

    @Test func syntaxErrorsNameFileAndLine() {
        let yaml = twoNodeYAML.replacing("    zone: z2", with: "    zone: z2\n   bad: [unclosed")
        let error = expectRefusal(yaml, key: "", code: .invalidYAML)
        #expect(error?.line != nil)
        #expect(error?.message.contains("line") == true)
        #expect(error?.description.hasPrefix("test.yaml:") == true)
    }

    @Test func duplicateMappingKeysAreRefused() {
        let yaml = twoNodeYAML.replacing("    zone: z2", with: "    zone: z2\n    zone: z3")
        let error = expectRefusal(yaml, key: "", code: .duplicate)
        #expect(error?.message.contains("`zone`") == true)
    }

    @Test func anchorsAreRefusedAndAliasesAreUndefined() {
        let anchored = twoNodeYAML.replacing("zone: z1", with: "zone: &z z1").replacing("zone: z2", with: "zone: *z")
        let error = expectRefusal(anchored, key: "", code: .unsupportedYAML)
        #expect(error?.line == 6)
        let aliasOnly = twoNodeYAML.replacing("zone: z2", with: "zone: *z")
        expectRefusal(aliasOnly, key: "", code: .invalidYAML)
    }

    @Test func emptyAndMultiDocumentInputsAreRefused() {
        #expect(refusal("") != nil)
        #expect(refusal("# only a comment\n") != nil)
        #expect(refusal(twoNodeYAML + "\n---\n" + twoNodeYAML) != nil)
        #expect(refusal("just text") != nil)
        #expect(refusal("[1, 2]") != nil)
    }

    /// libyaml refuses nesting beyond 1000 levels; anything below must compose without
    /// exhausting a test thread's stack, then fail on shape.
    @Test(arguments: [900, 5000, 200_000])
    func deepNestingIsRefusedWithoutCrashing(depth: Int) {
        let flow = "cluster: " + String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        #expect(refusal(flow) != nil)
        let block = (0..<min(depth, 2000)).map { String(repeating: " ", count: $0) + "- " }.joined(separator: "\n")
        #expect(refusal("nodes:\n" + block + "x\n") != nil)
    }

    @Test func controlCharactersAreRefused() {
        let error = refusal(twoNodeYAML.replacing("zone: z2", with: "zone: z\u{7}2"))
        #expect(error != nil)
    }
}
