/// BizraRaft: the consensus protocol core, as a pure library.
///
/// Raft (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm", USENIX ATC
/// 2014; Ongaro's dissertation, 2014) with the extensions of etcd-io/raft: pre-vote, check-quorum,
/// leader stickiness, ReadIndex and lease reads, learners, joint consensus, leadership transfer,
/// chunked snapshots, flow control by messages and bytes, and asynchronous storage writes.
///
/// BIZRA's deviations from the paper:
/// - **Weighted quorums (Ihsan weights).** Every voter has a positive integer weight; a quorum is
///   more than half of the total weight (of both configurations during joint consensus). Equal
///   weights are plain Raft. See `Raft.MajorityConfig`.
/// - **A hash-chained log.** Every entry carries BLAKE2b(previous hash, term, index, kind, origin,
///   payload); a follower refuses entries that do not link to its log, and the committed prefix
///   has a Merkle root with offline-verifiable inclusion proofs. See `Raft.Entry`, `Raft.Merkle`.
///
/// No sockets, clocks, threads or randomness inside: time is `tick()`, randomness comes from a
/// seed the caller injects, and every obligation is returned in a `Raft.Ready`.
package enum Raft {
    /// A member's identity. The component shell maps bus-config node names to these.
    package typealias NodeID = UInt64
    /// An election term (Raft §5.1).
    package typealias Term = UInt64
    /// A log position; the first entry is at index 1, index 0 is the empty log.
    package typealias Index = UInt64
}
