# Sourced by the link benchmark scripts (not run): two network namespaces joined by a veth,
# each with only 127.x addresses (loopback keeps 127.0.0.1/32; 127.101.0.N/24 on eth0, with
# route_localnet=1) and no default route, so no benchmark traffic can leave 127.0.0.0/8.

# netns_pair NS1 NS2: creates both namespaces and the veth between them (127.101.0.1 and .2).
netns_pair() {
    ip netns add "$1"
    ip netns add "$2"
    ip link add eth0 netns "$1" type veth peer name eth0 netns "$2"
    local i=1 ns
    for ns in "$1" "$2"; do
        ip -n "$ns" link set lo up
        ip -n "$ns" addr del 127.0.0.1/8 dev lo
        ip -n "$ns" addr add 127.0.0.1/32 dev lo
        ip netns exec "$ns" sysctl -qw net.ipv4.conf.all.route_localnet=1 net.ipv4.conf.eth0.route_localnet=1
        ip -n "$ns" addr add "127.101.0.$i/24" dev eth0
        ip -n "$ns" link set eth0 up
        i=$((i + 1))
    done
}

# netns_remove NS...: kills what still runs in each namespace (by the PIDs `ip netns pids`
# reports for it) and deletes it.
netns_remove() {
    local ns pid
    for ns in "$@"; do
        for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
        ip netns del "$ns" 2>/dev/null || true
    done
}
