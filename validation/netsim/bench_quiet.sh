#!/usr/bin/env bash
# The quiet-machine benchmark of BENCHMARKS.md "Network simulator": AODV
# N = 50 (200 s, run 1) and N = 100 (50 s, run 1), ns-3 and Twin one after
# the other in the same invocation, each under /usr/bin/time. Prints one line
# per program and case (CPU s = user + system, max RSS) and the ratios, plus
# `uptime` before and after. Builds what is missing first (ns-3 wheel ~1 min,
# Twin release example ~2 min); on a quiet machine the runs take ~3-5 min.
# Writes nothing under results/.
# Usage: [CARGO_TARGET_DIR=...] [CASES="N T,N T"] validation/netsim/bench_quiet.sh
set -euo pipefail
cd "$(dirname "$0")"
./build_ns3.sh >/dev/null
(cd ../.. && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target} cargo build --quiet --release -p twin-netsim --example manet_bench)
BIN=$(cd ../.. && realpath -m "${CARGO_TARGET_DIR:-target}/release/examples/manet_bench")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
uptime
IFS=, read -ra cases <<< "${CASES:-50 200,100 50}"
for c in "${cases[@]}"; do
    set -- $c
    /usr/bin/time -f "%U %S %M" -o "$TMP/ns3.t" ./ns3_manet --nodes="$1" --protocol=AODV --seed=1 --run=1 --time="$2" \
        | sed -n 's/^RESULT //p' > "$TMP/ns3.json"
    /usr/bin/time -f "%U %S %M" -o "$TMP/twin.t" "$BIN" --scenario ../../scenarios/net/manet-ns3.toml --nodes "$1" --protocol aodv --seed 1 --run 1 --time "$2" \
        | sed -n 's/^RESULT //p' > "$TMP/twin.json"
    python3 - "$1" "$2" "$TMP" <<'PY'
import json, sys
n, t, d = sys.argv[1], sys.argv[2], sys.argv[3]
out = {}
for k in ("ns3", "twin"):
    u, s, m = open(f"{d}/{k}.t").read().split()[-3:]
    r = json.load(open(f"{d}/{k}.json"))
    out[k] = (float(u) + float(s), int(m) / 1024, r)
    print(f"AODV N = {n}, {t} s, run 1, {k}: CPU {out[k][0]:.2f} s, max RSS {out[k][1]:.1f} MB, "
          f"events {r['events']:,}, PDR {r['pdr_nominal']:.3f}, mean delay {r['mean_delay_ms']:.1f} ms, "
          f"control packets {r['control_pkts']:,}")
(c3, m3, _), (ct, mt, _) = out["ns3"], out["twin"]
print(f"AODV N = {n}, {t} s: CPU ratio ns-3 / Twin {c3 / max(ct, 0.01):.0f}x, memory 1/{m3 / mt:.0f}")
PY
done
uptime
