#!/usr/bin/env bash
# Installs the ns-3 3.44 PyPI wheel (headers + shared libraries only, no
# cppyy) into validation/netsim/.venv and compiles ns3_manet.cc against it.
# Idempotent; ~1 min (download) + ~10 s CPU (compile).
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -d .venv/lib/python3.11/site-packages/ns3 ] && ! ls -d .venv/lib/python3*/site-packages/ns3 >/dev/null 2>&1; then
    python3 -m venv .venv
    ./.venv/bin/pip install --quiet --no-deps ns3==3.44.post0
fi
NS=$(ls -d "$PWD"/.venv/lib/python3*/site-packages/ns3 | head -1)
LIBS=""
for m in core network mobility wifi internet aodv olsr applications flow-monitor propagation \
    spectrum antenna energy stats traffic-control bridge; do
    LIBS="$LIBS -lns3.44-$m"
done
if [ ! -x ns3_manet ] || [ ns3_manet.cc -nt ns3_manet ]; then
    g++ -O2 -std=c++20 -DNS3_BUILD_PROFILE_RELEASE -DNS3_LOG_ENABLE -DNS3_ASSERT_ENABLE \
        -I"$NS/include" ns3_manet.cc -o ns3_manet -L"$NS/lib64" $LIBS -Wl,-rpath,"$NS/lib64"
fi
echo "built $PWD/ns3_manet"
