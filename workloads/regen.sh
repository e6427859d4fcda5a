#!/bin/sh
# Regenerate the traces shipped in workloads/.  README.md quotes these
# command lines and tests/test_workloads.c checks that it does, and that
# the shipped files are byte for byte what the commands write.
#
# usage: workloads/regen.sh PATH/TO/gen [OUTDIR]   (OUTDIR: workloads/)
set -eu
gen=$1
out=${2:-$(dirname "$0")}
"$gen" startup --vcpus 8 --mem 1G --backing thp --seed 1 -o "$out/startup.trace"
"$gen" migrate --vcpus 8 --mem 2G --backing thp --seed 1 -o "$out/migrate.trace"
