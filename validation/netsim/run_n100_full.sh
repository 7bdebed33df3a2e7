#!/usr/bin/env bash
# AODV N = 100, full 200 s scenario, ns-3 and Twin in the same session for
# the CPU/memory claim in BENCHMARKS.md. Per run: one ns-3 process (under
# `nice`, bounded by `timeout`, never two at once), then Twin three times:
# the scenario as committed (`quirk-off`), with ns-3's neighbour-entry rule
# `only_hello_revalidates_neighbors` (`quirk-on`; both send fewer control
# packets than ns-3 at N = 100), and `upper`: quirk on and HELLOs every
# 500 ms, which sends more control packets than ns-3 — so Twin's cost is
# bracketed at ns-3's routing load (validation/netsim.md, "N = 100"). Every
# process runs under `/usr/bin/time -v`; its user+system CPU seconds and
# maximum RSS are added to the JSON line as `time_v`, and the Twin variant
# as `variant`. Appends to results/n100-200s.jsonl (one line per process).
# Usage: [TWIN_ONLY=1] [T=200] run_n100_full.sh [RUNS="1 2 3"] [NS3_TIMEOUT_S=3000]
# (T < 200 shortens the run as run_n100.sh does: flows stop at T - 5 s;
# output then results/n100-${T}s-bracket.jsonl)
set -euo pipefail
cd "$(dirname "$0")"
RUNS=${1:-1 2 3}
LIMIT=${2:-3000}
./build_ns3.sh >/dev/null
(cd ../.. && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target} cargo build --quiet --release -p twin-netsim --example manet_bench)
BIN=$(cd ../.. && realpath -m "${CARGO_TARGET_DIR:-target}/release/examples/manet_bench")
T=${T:-200}
OUT=$PWD/results/n100-200s.jsonl
[ "$T" = 200 ] || OUT=$PWD/results/n100-${T}s-bracket.jsonl
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
sed 's/^only_hello_revalidates_neighbors = false/only_hello_revalidates_neighbors = true/' \
    ../../scenarios/net/manet-ns3.toml > "$TMP/quirk.toml"
grep -q '^only_hello_revalidates_neighbors = true' "$TMP/quirk.toml"
sed 's/^\[routing.aodv\]/[routing.aodv]\nhello_interval = "500ms"/' "$TMP/quirk.toml" > "$TMP/upper.toml"
grep -q '^hello_interval = "500ms"' "$TMP/upper.toml"

# run_one VARIANT CMD... : runs CMD under /usr/bin/time -v and appends its
# RESULT line, extended with time_v and variant, to $OUT.
run_one() {
    local variant=$1; shift
    /usr/bin/time -v -o "$TMP/time" "$@" > "$TMP/out" || { echo "failed: $*" >&2; return 0; }
    python3 - "$variant" "$TMP/out" "$TMP/time" >> "$OUT" <<'EOF'
import json, sys
variant, out, tv = sys.argv[1:]
line = next(l[7:] for l in open(out) if l.startswith("RESULT "))
rec = json.loads(line)
t = {}
for l in open(tv):
    k, _, v = l.strip().rpartition(": ")
    t[k] = v
rec["variant"] = variant
rec["time_v"] = {
    "cpu_s": float(t["User time (seconds)"]) + float(t["System time (seconds)"]),
    "max_rss_mb": int(t["Maximum resident set size (kbytes)"]) / 1024,
}
print(json.dumps(rec))
EOF
}

for r in $RUNS; do
    uptime | sed 's/^/load before run '"$r"': /' >&2
    [ -n "${TWIN_ONLY:-}" ] || run_one ns3 timeout "$LIMIT" nice -n 10 ./ns3_manet --nodes=100 --protocol=AODV --seed=1 --run="$r" --time="$T"
    (cd ../.. && run_one quirk-off "$BIN" --nodes 100 --protocol aodv --seed 1 --run "$r" --time "$T")
    (cd ../.. && run_one quirk-on "$BIN" --scenario "$TMP/quirk.toml" --nodes 100 --protocol aodv --seed 1 --run "$r" --time "$T")
    (cd ../.. && run_one upper "$BIN" --scenario "$TMP/upper.toml" --nodes 100 --protocol aodv --seed 1 --run "$r" --time "$T")
done
wc -l "$OUT"
