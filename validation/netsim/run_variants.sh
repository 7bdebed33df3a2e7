#!/usr/bin/env bash
# Twin runs of scenarios/net/manet-ns3.toml with `[routing.aodv]` switches
# changed, to measure what a switch does to delivery, delay and control
# traffic (validation/netsim.md, "AODV N = 50"). One JSON line per run,
# with the variant's name as `variant`, appended to
# results/variants-${PROTO}-${N}.jsonl.
# Usage: run_variants.sh N PROTO RUNS NAME [KEY=VALUE ...]
#   e.g. run_variants.sh 50 aodv "$(seq -s' ' 1 10)" quirk only_hello_revalidates_neighbors=true
set -euo pipefail
cd "$(dirname "$0")"
N=$1 PROTO=$2 RUNS=$3 NAME=$4
shift 4
(cd ../.. && CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-target} cargo build --quiet --release -p twin-netsim --example manet_bench)
BIN=$(cd ../.. && realpath -m "${CARGO_TARGET_DIR:-target}/release/examples/manet_bench")
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
cp ../../scenarios/net/manet-ns3.toml "$TMP/s.toml"
for kv in "$@"; do
    k=${kv%%=*} v=${kv#*=}
    grep -q "^$k = " "$TMP/s.toml" || { echo "no key $k in the scenario" >&2; exit 2; }
    sed -i "s|^$k = .*|$k = $v|" "$TMP/s.toml"
done
OUT=$PWD/results/variants-$PROTO-$N.jsonl
for r in $RUNS; do
    "$BIN" --scenario "$TMP/s.toml" --nodes "$N" --protocol "$PROTO" --seed 1 --run "$r" \
        | sed -n 's/^RESULT //p' \
        | python3 -c 'import json,sys; r=json.loads(sys.stdin.read()); r["variant"]=sys.argv[1]; print(json.dumps(r))' "$NAME" >> "$OUT"
done
