#!/usr/bin/env bash
# Runs the bench of device-run.sh once per PTX file in <packed folder>/ptx (built on the CPU machine with other -D
# settings, e.g. nvcc -ptx -arch=compute_90 -DGEARBX_PREFETCH_ROW_BYTES=0 ...), each loaded through
# -Dgearbx.cuda.ptxFile, one after another in one call on one card. Logs go to $OUT (or ./device-out): the whole
# bench output per variant in bench-<name>.log, the throughput lines of all of them in variants.log.
# Usage: bash .device/cuda/device-ptx-variants.sh [bench shapes] [tokens] [outputInGears]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${OUT:-$PWD/device-out}
mkdir -p "$out"
for ptx in "$here"/ptx/*.ptx; do
  name=$(basename "$ptx" .ptx)
  echo "=== variant $name" | tee -a "$out/variants.log"
  BENCH_OPTS="${BENCH_OPTS:-} -Dgearbx.cuda.ptxFile=$ptx" bash "$here/device-run.sh" bench "${1:-llama-3.2-1b,llama-3-8b}" \
    "${2:-128}" "${3:-true}" > /dev/null
  cp "$out/bench.log" "$out/bench-$name.log"
  grep -E '^(LOW|MID|HIGH) |^parts|^== |ratio' "$out/bench-$name.log" | tee -a "$out/variants.log"
done
