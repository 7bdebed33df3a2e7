#!/bin/bash
# Two builds of the speed example, one case, alternately (new, base, new, base,
# ...), so that both see the same load; prints each run's CPU least/median and
# the median of the medians of each build.
#
#   validation/brain/bench_alternate.sh NEW_BIN BASE_BIN [PAIRS] [LABEL] > log
#
# LABEL: a substring of the speed example's case labels (default: the
# 192-region Epileptor). Build a base binary with
#   git worktree add /tmp/base COMMIT && (cd /tmp/base && cargo build --release -p twin-brain --example speed)
set -euo pipefail
new=$1
base=$2
pairs=${3:-10}
label=${4:-Epileptor           192}
cd "$(dirname "$0")/../.."
echo "new $new; base $base; case '$label'; $(nproc) CPUs; $(uptime)"
declare -a mn mb
for i in $(seq "$pairs"); do
  echo "pair $i $(date -u +%H:%M:%S) $(uptime | sed 's/.*load/load/')"
  for who in new base; do
    bin=$new
    [ "$who" = base ] && bin=$base
    line=$("$bin" "$label" | tail -1)
    echo "$who  $line"
    med=$(sed -E 's/.*CPU [0-9.]+ \(least\), ([0-9.]+) \(median\).*/\1/' <<<"$line")
    if [ "$who" = new ]; then mn+=("$med"); else mb+=("$med"); fi
  done
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
echo "median of medians: new $(median "${mn[@]}"), base $(median "${mb[@]}") CPU-s per simulated s; $(uptime)"
