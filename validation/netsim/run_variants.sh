#!/usr/bin/env bash
# Twin runs of scenarios/net/manet-ns3.toml with `[routing.aodv]` switches
# changed (keys not in the file are added to [routing.aodv]), to measure
# what a switch does to delivery, delay and control traffic
# (validation/netsim.md, "AODV N = 50"). One JSON line per run,
# with the variant's name as `variant`, appended to
# results/variants-${PROTO}-${N}.jsonl.
# Usage: [TIME_S=50] run_variants.sh N PROTO RUNS NAME [KEY=VALUE ...]
#   (TIME_S shortens the run as run_n100.sh does; output then -${TIME_S}s.jsonl)
#   e.g. run_variants.sh 50 aodv "$(seq -s' ' 1 10)" quirk only_hello_revalidates_neighbors=true
set -euo pipefail
cd "$(dirname "$0")"
N=$1 PROTO=$2 RUNS=$3 NAME=$4
TIME_ARGS=()
[ -n "${TIME_S:-}" ] && TIME_ARGS=(--time "$TIME_S")
shift 4
(cd ../.. && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target} cargo build --quiet --release -p twin-netsim --example manet_bench)
BIN=$(cd ../.. && realpath -m "${CARGO_TARGET_DIR:-target}/release/examples/manet_bench")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp ../../scenarios/net/manet-ns3.toml "$TMP/s.toml"
for kv in "$@"; do
    k=${kv%%=*} v=${kv#*=}
    if grep -q "^$k = " "$TMP/s.toml"; then
        sed -i "s|^$k = .*|$k = $v|" "$TMP/s.toml"
    else
        # A key the scenario leaves at its default: an [routing.aodv] one.
        sed -i "s|^\[routing.aodv\]|[routing.aodv]\n$k = $v|" "$TMP/s.toml"
    fi
done
OUT=$PWD/results/variants-$PROTO-$N${TIME_S:+-${TIME_S}s}.jsonl
for r in $RUNS; do
    "$BIN" --scenario "$TMP/s.toml" --nodes "$N" --protocol "$PROTO" --seed 1 --run "$r" "${TIME_ARGS[@]}" \
        | sed -n 's/^RESULT //p' \
        | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["variant"]=sys.argv[1]; print(json.dumps(r))' "$NAME" >> "$OUT"
done
