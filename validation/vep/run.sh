#!/usr/bin/env bash
# EZ-recovery accuracy study of the virtual epileptic patient (issue 8):
# synthetic patients on tvb-data's 76- and 192-region connectomes, varied EZ
# size (1–3 regions), noise (× 0.5 … × 4 of the default measurement and
# process noise) and sparse sensor coverage, each fitted by MAP + Laplace from
# its patient folder and compared with its hidden truth. Writes results.json
# (per patient) and results.md (per condition) next to this script.
#
# Extra arguments go to the study (e.g. --only "noise x"; several conditions
# separated by ';'); VEP_OUT sets the results folder. Needs the connectomes
# (scripts/fetch-tvb-data). Runs the study through twin-vep's `study` example,
# the same library call as `twin brain vep study` without building the whole
# CLI (the workspace builds twin-vep with opt-level 3 even in dev profile).
# About 90 minutes on the project's 2-core VM (the 192-region fits take
# 5–7 minutes each there under load); conditions can run as parallel
# processes with --only and separate VEP_OUT folders. Not run by CI (the unit
# and end-to-end tests are).
set -euo pipefail
cd "$(dirname "$0")/../.."
scripts/fetch-tvb-data
cargo run -p twin-vep --example study -- \
  --tvb-data crates/twin-brain/tests/data/tvb-data \
  --out "${VEP_OUT:-validation/vep}" "$@"
