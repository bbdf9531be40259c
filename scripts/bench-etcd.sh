#!/usr/bin/env bash
# The etcd comparison of issue 6 §6, recorded in docs/BENCHMARKS.md ("Consensus key-value store").
#
# The same closed-loop put workload against a local 3-member etcd (Debian's etcd-server 3.4) and
# a local 3-node bizra cluster (the embedded default with links and consensus only), in the same
# run: C clients, each with one request in flight, 8-byte keys distinct per put, 256-byte values,
# sent to the leader only. etcd is driven by its own gRPC `benchmark put` tool (the fair client:
# its HTTP/JSON gateway costs etcd about half its throughput at 64 clients); bizra by
# `bizra bench consensus`. Both clusters stay up for the whole run, and for each client count the
# two are measured one right after the other, etcd first at the 1st, 3rd, … count and bizra first
# at the others, so that both see similar machine noise. Prints one table: puts/s of both, the
# ratio bizra/etcd, p50/p95/p99 of both, with the commit, the date and the load average.
#
# Usage: scripts/bench-etcd.sh [PUTS] [CLIENTS ...]    (default: 10000 1 16 64 256)
#   PUTS     puts per client count; a count below 16 clients runs PUTS/10 (as bench-consensus.sh)
#   CLIENTS  client counts, in the order run
# Environment:
#   BIZRA_BIN                 bizra, bizra-core, bizra-consensus, bizra-compression (default .build/release)
#   BIZRA_BENCH_SKIP_BUILD=1  do not `swift build` them first
#   BIZRA_BENCH_ETCD_ONLY=1   measure etcd only (the bizra columns print "-")
#   BIZRA_BENCH_CLIENTS_PER_CONN  clients sharing one connection, both systems (default 16, bizra's
#                             default: etcd gets --conns ceil(C/16), bizra --clients-per-connection 16)
#   BIZRA_ETCD_CACHE          where Debian's etcd source and the built benchmark tool are kept
#                             (default /var/cache/bizra/etcd; a second run reuses the binary)
#   BIZRA_ETCD_PORT_BASE      etcd ports: clients BASE+1..3, peers BASE+11..13 (default 19790)
#   BIZRA_PORT_BASE           bizra's --port-base: BASE..BASE+299 (default 18500)
#   Both defaults stay below Linux's ephemeral range (32768–60999, where outgoing connections
#   would take a listening port) and below the integration tests' port slots (20000–31999).
#
# Installs what is missing, as root on Debian 12 (bookworm): etcd-server, etcd-client,
# golang-go, dpkg-dev, a deb-src entry for bookworm main, `apt-get source etcd` and
# `apt-get build-dep etcd`. Then builds etcd's tools/benchmark offline with Debian's Go in GOPATH
# mode against the packaged Go sources in /usr/share/gocode (GOPROXY=off: nothing is
# downloaded but Debian packages). Loopback only; everything started is stopped by PID on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/opt/swift/usr/bin:$PATH"

PUTS="${1:-10000}"
shift || true
CLIENT_COUNTS=("$@")
((${#CLIENT_COUNTS[@]})) || CLIENT_COUNTS=(1 16 64 256)
ETCD_ONLY="${BIZRA_BENCH_ETCD_ONLY:-}"
CLIENTS_PER_CONN="${BIZRA_BENCH_CLIENTS_PER_CONN:-16}"
CACHE="${BIZRA_ETCD_CACHE:-/var/cache/bizra/etcd}"
ETCD_PORT_BASE="${BIZRA_ETCD_PORT_BASE:-19790}"
BIZRA_PORT_BASE="${BIZRA_PORT_BASE:-18500}"
BIN="${BIZRA_BIN:-$PWD/.build/release}"
ETCD_HEALTH_WAIT_SECONDS=30
BIZRA_LEADER_WAIT_SECONDS=30
# A stopped etcd leader first tries to hand leadership over, which takes seconds once its peers are
# stopping too; the data is thrown away, so etcd gets a short grace before SIGKILL.
ETCD_STOP_WAIT_SECONDS=3
BIZRA_STOP_WAIT_SECONDS=10

die() {
    echo "bench-etcd: error: $*" >&2
    exit 1
}
note() { echo "bench-etcd: $*" >&2; }
load() { cut -d' ' -f1-3 /proc/loadavg; }

if ! [[ "$PUTS" =~ ^[0-9]+$ ]] || ((PUTS < 10)); then die "PUTS must be a number ≥ 10, got '$PUTS'"; fi
for clients in "${CLIENT_COUNTS[@]}"; do
    if ! [[ "$clients" =~ ^[0-9]+$ ]] || ((clients < 1 || clients > 4096)); then
        die "a client count must be 1…4096 (bizra bench consensus's limit), got '$clients'"
    fi
done

# ---------------------------------------------------------------------------------------------
# Install (idempotent): packages, Debian's etcd source, the benchmark tool.

DEB_SRC_FILE=/etc/apt/sources.list.d/bizra-deb-src.sources
APT_LOG="$CACHE/apt.log"

# apt_quiet COMMAND…: runs an apt-get command with its output in $APT_LOG, shown only on failure.
apt_quiet() {
    mkdir -p "$CACHE"
    DEBIAN_FRONTEND=noninteractive "$@" >>"$APT_LOG" 2>&1 || {
        tail -n 20 "$APT_LOG" >&2
        die "'$*' failed (whole output in $APT_LOG)"
    }
}

install_packages() {
    local packages=(etcd-server etcd-client golang-go dpkg-dev) missing=() p
    for p in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    local need_src=""
    [ -f "$DEB_SRC_FILE" ] || need_src=1
    if ((${#missing[@]})) || [ -n "$need_src" ]; then
        [ "$(id -u)" -eq 0 ] || die "installing ${missing[*]:-a deb-src entry} needs root"
        if [ -n "$need_src" ]; then
            note "adding $DEB_SRC_FILE (deb-src for bookworm main)"
            cat >"$DEB_SRC_FILE" <<'EOF'
# Added by BIZRA Mesh scripts/bench-etcd.sh: Debian's source packages, for `apt-get source etcd`.
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
        fi
        note "apt-get update"
        apt_quiet apt-get update
        if ((${#missing[@]})); then
            note "installing ${missing[*]}"
            apt_quiet apt-get install -y "${missing[@]}"
        fi
    fi
}

# Debian leaves tools/ out of golang-etcd-server-dev, so the benchmark is built from the source
# package, as `apt-get source` unpacks it with Debian's patches applied (two adapt etcd to
# bookworm's grpc). In GOPATH mode (GO111MODULE=off) the first GOPATH entry holds that tree as
# go.etcd.io/etcd and the second is /usr/share/gocode, where `apt-get build-dep etcd` puts every
# Go library Debian builds etcd with (grpc, zap, cobra, pb.v1, …; the benchmark uses 34 of those
# packages); Debian's own build does the same through dh-golang. The source has no vendor/
# directory and no module cache is reachable, so module mode (-mod=vendor or a proxy) is no
# option. The build needs no network at all: it passes under `unshare -n`.
build_benchmark() {
    # The installed etcd-server's upstream version (3.4.23-4+b4 → 3.4.23): the source to build
    # from, and the name the binary is cached under.
    local version
    version=$(dpkg-query -W -f='${Version}' etcd-server | sed 's/^[0-9]*://; s/-[^-]*$//')
    ETCD_BENCHMARK="$CACHE/etcd-benchmark-$version"
    [ -x "$ETCD_BENCHMARK" ] && return
    [ "$(id -u)" -eq 0 ] || die "building etcd's benchmark tool needs root (apt-get source, build-dep)"
    local src="$CACHE/src" started=$SECONDS
    mkdir -p "$src"
    if [ ! -d "$src/etcd-$version/tools/benchmark" ]; then
        note "apt-get source etcd into $src"
        (cd "$src" && apt_quiet apt-get source etcd) || exit 1
        [ -d "$src/etcd-$version/tools/benchmark" ] ||
            die "apt-get source etcd gave no $src/etcd-$version/tools/benchmark (source and etcd-server differ?)"
    fi
    note "apt-get build-dep etcd (the Go libraries Debian builds etcd with)"
    apt_quiet apt-get build-dep -y etcd
    local gopath="$CACHE/gopath"
    mkdir -p "$gopath/src/go.etcd.io"
    ln -sfn "$src/etcd-$version" "$gopath/src/go.etcd.io/etcd"
    note "building etcd's tools/benchmark offline with $(go version | cut -d' ' -f3)"
    (cd "$gopath/src/go.etcd.io/etcd" &&
        GOPATH="$gopath:/usr/share/gocode" GO111MODULE=off GOPROXY=off GOFLAGS='' GOCACHE="$CACHE/gocache" \
            go build -o "$ETCD_BENCHMARK.tmp" ./tools/benchmark) || die "go build of tools/benchmark failed"
    mv "$ETCD_BENCHMARK.tmp" "$ETCD_BENCHMARK"
    note "built $ETCD_BENCHMARK in $((SECONDS - started)) s"
}

install_packages
build_benchmark
command -v etcd >/dev/null || die "etcd missing after the install (package etcd-server)"
command -v etcdctl >/dev/null || die "etcdctl missing after the install (package etcd-client)"

if [ -z "$ETCD_ONLY" ] && [ -z "${BIZRA_BENCH_SKIP_BUILD:-}" ]; then
    for product in bizra bizra-core bizra-consensus bizra-compression; do
        swift build -c release --product "$product" >/dev/null
    done
fi
if [ -z "$ETCD_ONLY" ]; then
    for product in bizra bizra-core bizra-consensus bizra-compression; do
        [ -x "$BIN/$product" ] || die "$BIN/$product missing (build it, or set BIZRA_BIN)"
    done
fi

# ---------------------------------------------------------------------------------------------
# Processes: everything started is recorded and stopped by PID on exit, even on failure.

WORK="$(mktemp -d /tmp/bizra-bench-etcd.XXXXXX)"
ETCD_PIDS=()
BIZRA_UP=""
BIZRA_PIDS=()
THREE=(--data-dir "$WORK/bizra" --port-base "$BIZRA_PORT_BASE")

stop_pids() { # stop_pids WHAT SECONDS PID…: TERM all, then KILL whatever still runs after SECONDS
    local what=$1 wait_seconds=$2 pid waited=0 alive pids=()
    shift 2
    for pid in "$@"; do
        # Only real PIDs of others: kill 0 or -1 would signal this script's group or everyone.
        if [[ "$pid" =~ ^[1-9][0-9]*$ ]] && ((pid > 1 && pid != $$)); then pids+=("$pid"); fi
    done
    ((${#pids[@]})) || return 0
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    while ((waited < wait_seconds * 10)); do
        alive=""
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive+=" $pid"; done
        [ -n "$alive" ] || break
        sleep 0.1
        waited=$((waited + 1))
    done
    if [ -n "$alive" ]; then
        note "$what (pid$alive) still stopping after $wait_seconds s; SIGKILL"
        for pid in $alive; do kill -KILL "$pid" 2>/dev/null || true; done
    fi
    # Reap this script's own children (the etcd members) quietly; others return at once.
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}

cleanup() {
    local status=$?
    # A second Ctrl-C or TERM must not cut the cleanup short: ignored until it is done.
    trap '' INT TERM
    trap - EXIT
    ((${#ETCD_PIDS[@]} == 0)) || stop_pids etcd "$ETCD_STOP_WAIT_SECONDS" "${ETCD_PIDS[@]}"
    if [ -n "$BIZRA_UP" ]; then
        # `bizra down` stops the supervisor and waits for it; should it fail, the supervisor and the
        # components recorded after `bizra up` are stopped by PID.
        if ! timeout 70 "$BIN/bizra" down "${THREE[@]}" >/dev/null 2>&1; then
            note "bizra down failed; stopping the supervisor and components by PID"
            ((${#BIZRA_PIDS[@]} == 0)) || stop_pids bizra "$BIZRA_STOP_WAIT_SECONDS" "${BIZRA_PIDS[@]}"
        fi
    fi
    if ((status != 0)) && [ -d "$WORK" ]; then
        note "failed (exit $status); last lines of the logs:"
        for log in "$WORK"/etcd/*.log "$WORK"/bizra/logs/supervisor.log; do
            [ -f "$log" ] && { echo "--- $log" >&2; tail -n 5 "$log" >&2; }
        done
    fi
    rm -rf "$WORK"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------------------------------------
# etcd: three members on 127.0.0.1, data under $WORK/etcd, etcd's defaults otherwise.

ETCD_ENDPOINTS=""
start_etcd() {
    mkdir -p "$WORK/etcd"
    local cluster="" i
    for i in 1 2 3; do cluster+="${cluster:+,}e$i=http://127.0.0.1:$((ETCD_PORT_BASE + 10 + i))"; done
    for i in 1 2 3; do
        local client="http://127.0.0.1:$((ETCD_PORT_BASE + i))" peer="http://127.0.0.1:$((ETCD_PORT_BASE + 10 + i))"
        ETCD_ENDPOINTS+="${ETCD_ENDPOINTS:+,}127.0.0.1:$((ETCD_PORT_BASE + i))"
        etcd --name "e$i" --data-dir "$WORK/etcd/e$i" \
            --listen-client-urls "$client" --advertise-client-urls "$client" \
            --listen-peer-urls "$peer" --initial-advertise-peer-urls "$peer" \
            --initial-cluster "$cluster" --initial-cluster-token bizra-bench --initial-cluster-state new \
            --logger zap --log-outputs stderr >"$WORK/etcd/e$i.log" 2>&1 &
        ETCD_PIDS+=($!)
    done
    local deadline=$((SECONDS + ETCD_HEALTH_WAIT_SECONDS))
    until etcdctl --endpoints "$ETCD_ENDPOINTS" --command-timeout 2s endpoint health >/dev/null 2>&1; do
        for i in "${ETCD_PIDS[@]}"; do kill -0 "$i" 2>/dev/null || die "etcd (pid $i) exited; see its log"; done
        ((SECONDS < deadline)) || die "etcd not healthy after ${ETCD_HEALTH_WAIT_SECONDS} s ($ETCD_ENDPOINTS)"
        sleep 0.5
    done
}

# The leader's client endpoint: `endpoint status` prints ENDPOINT, ID, VERSION, DB SIZE,
# IS LEADER, IS LEARNER, RAFT TERM, …
etcd_leader() {
    etcdctl --endpoints "$ETCD_ENDPOINTS" --command-timeout 2s endpoint status -w simple |
        awk -F', ' '$5 == "true" { print $1 }'
}

# Prints "PUTS_PER_S P50_MS P95_MS P99_MS" from one `benchmark put` run against the leader.
# --sequential-keys with --key-space-size = total: key i is varint(i) in 8 bytes, distinct per put.
ETCD_LOG_INDEX=0
run_etcd() {
    local clients=$1 count=$2 leader out
    leader=$(etcd_leader)
    [ -n "$leader" ] || die "etcd has no leader"
    ETCD_LOG_INDEX=$((ETCD_LOG_INDEX + 1))
    out="$WORK/etcd/bench-$ETCD_LOG_INDEX.txt"
    "$ETCD_BENCHMARK" --endpoints "$leader" --clients "$clients" --conns "$(conns_for "$clients")" --precise \
        put --key-size 8 --val-size 256 --sequential-keys --key-space-size "$count" --total "$count" \
        >"$out" 2>&1 || { cat "$out" >&2; die "etcd benchmark put failed ($clients clients)"; }
    parse_etcd "$out"
}

conns_for() { echo $((($1 + CLIENTS_PER_CONN - 1) / CLIENTS_PER_CONN)); }

# etcd's report: "  Requests/sec:	2790.1234" and "  50% in 0.0016 secs." (seconds → ms).
parse_etcd() {
    awk '
        /Requests\/sec:/ { rate = $2 }
        /^ *50% in / { p50 = $3 * 1000 }
        /^ *95% in / { p95 = $3 * 1000 }
        /^ *99% in / { p99 = $3 * 1000 }
        END {
            if (rate == "" || p99 == "") { exit 1 }
            printf "%.0f %.2f %.2f %.2f\n", rate, p50, p95, p99
        }' "$1" || die "could not read etcd's report in $1"
}

# ---------------------------------------------------------------------------------------------
# bizra: the embedded 3-node default with links and consensus only (as bench-consensus.sh).

start_bizra() {
    BIZRA_UP=1
    "$BIN/bizra" up --detach --components compression,consensus "${THREE[@]}" >/dev/null
    local pid
    pid=$(cat "$WORK/bizra/supervisor.pid" 2>/dev/null || true)
    if [ -n "$pid" ]; then BIZRA_PIDS+=("$pid"); fi
    local deadline=$((SECONDS + BIZRA_LEADER_WAIT_SECONDS))
    until [ -n "$(bizra_leader)" ]; do
        ((SECONDS < deadline)) || die "bizra elected no leader in ${BIZRA_LEADER_WAIT_SECONDS} s"
        sleep 0.5
    done
    # The components' PIDs, so that cleanup can stop them should `bizra down` fail.
    local pids=()
    mapfile -t pids < <("$BIN/bizra" status --json "${THREE[@]}" 2>/dev/null |
        sed -n 's/.*"pid" : \([1-9][0-9]*\).*/\1/p')
    BIZRA_PIDS+=("${pids[@]}")
}

bizra_leader() {
    "$BIN/bizra" consensus status --json --node n1 "${THREE[@]}" 2>/dev/null |
        sed -n 's/.*"leader" : "\(n[0-9]*\)".*/\1/p'
}

# Prints "PUTS_PER_S P50_MS P95_MS P99_MS" from one `bizra bench consensus --json` run.
run_bizra() {
    local clients=$1 count=$2 leader out
    leader=$(bizra_leader)
    [ -n "$leader" ] || die "bizra has no leader"
    out=$("$BIN/bizra" bench consensus --clients "$clients" --count "$count" \
        --clients-per-connection "$CLIENTS_PER_CONN" --node "$leader" --json "${THREE[@]}") ||
        die "bizra bench consensus failed ($clients clients): $out"
    parse_bizra "$out" "$count"
}

# {"clients":16,"ok":10000,"failed":0,"unknown":0,"seconds":…,"putsPerSecond":…,"p50Millis":…,…}
parse_bizra() {
    local json=$1 count=$2 field ok
    ok=$(sed -n 's/.*"ok":\([0-9]*\).*/\1/p' <<<"$json")
    [ -n "$ok" ] || die "could not read bizra's report: $json"
    ((ok == count)) || note "bizra: only $ok of $count puts acknowledged: $json"
    for field in putsPerSecond p50Millis p95Millis p99Millis; do
        sed -n "s/.*\"$field\":\([0-9.]*\).*/\1/p" <<<"$json"
    done | xargs printf "%.0f %.2f %.2f %.2f\n"
}

# ---------------------------------------------------------------------------------------------
# The run.

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "== etcd $(etcd --version | sed -n 's/^etcd Version: //p') and bizra (checkout $COMMIT), $(date -u '+%Y-%m-%d %H:%M UTC'), load $(load), $(nproc) cores"
echo "   $PUTS puts per client count (PUTS/10 below 16 clients), 8-byte distinct keys, 256-byte values,"
echo "   leader only, clients per connection: $CLIENTS_PER_CONN, etcd through its gRPC benchmark tool"
if [ -z "$ETCD_ONLY" ] && [ -n "${BIZRA_BIN:-}" ]; then
    echo "   bizra binaries: $BIN, built $(date -u -r "$BIN/bizra" '+%Y-%m-%d %H:%M UTC') (not necessarily from $COMMIT)"
fi
start_etcd
note "etcd healthy, leader $(etcd_leader)"
if [ -z "$ETCD_ONLY" ]; then
    start_bizra
    note "bizra up, leader $(bizra_leader)"
fi

ROWS=()
step=0
for clients in "${CLIENT_COUNTS[@]}"; do
    count=$PUTS
    ((clients >= 16)) || count=$((PUTS / 10))
    etcd_result="" bizra_result="- - - -"
    if ((step % 2 == 0)) || [ -n "$ETCD_ONLY" ]; then
        first=etcd
        etcd_result=$(run_etcd "$clients" "$count")
        [ -n "$ETCD_ONLY" ] || bizra_result=$(run_bizra "$clients" "$count")
    else
        first=bizra
        bizra_result=$(run_bizra "$clients" "$count")
        etcd_result=$(run_etcd "$clients" "$count")
    fi
    note "$clients clients, $count puts: etcd $etcd_result | bizra $bizra_result ($first first, load $(load))"
    ROWS+=("$clients $count $etcd_result $bizra_result $first $(cut -d' ' -f1 /proc/loadavg)")
    step=$((step + 1))
done

echo
printf "%7s %6s | %8s %8s %8s %8s | %8s %8s %8s %8s | %6s | %5s %5s\n" clients puts \
    "etcd/s" p50 p95 p99 "bizra/s" p50 p95 p99 ratio first load
for row in "${ROWS[@]}"; do
    read -r clients count e_rate e50 e95 e99 b_rate b50 b95 b99 first row_load <<<"$row"
    ratio="-"
    [ "$b_rate" = "-" ] || ratio=$(awk -v b="$b_rate" -v e="$e_rate" 'BEGIN { printf "%.2f", b / e }')
    printf "%7s %6s | %8s %8s %8s %8s | %8s %8s %8s %8s | %6s | %5s %5s\n" "$clients" "$count" \
        "$e_rate" "$e50" "$e95" "$e99" "$b_rate" "$b50" "$b95" "$b99" "$ratio" "$first" "$row_load"
done
echo "(latencies in ms; ratio = bizra puts/s ÷ etcd puts/s; first = which ran first at that count;"
echo " load = 1-minute load average after the row)"
echo "== done, load $(load)"
