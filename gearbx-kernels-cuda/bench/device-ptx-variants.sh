#!/usr/bin/env bash
# Runs CudaBench once per PTX file in <packed folder>/ptx (built on the CPU machine with other -D settings, e.g.
# nvcc -ptx -arch=compute_90 -DGEARBX_PREFETCH_ROW_BYTES=0 ...), each loaded through -Dgearbx.cuda.ptxFile, one
# after another in one call on one card. Logs go to $OUT (or ./device-out).
# Usage: bash .device/cuda/device-ptx-variants.sh [bench shapes] [tokens] [outputInGears]
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${OUT:-$PWD/device-out}
mkdir -p "$out" /tmp/jre
tar xJf "$here/jre.tar.xz" -C /tmp/jre && export PATH=/tmp/jre/bin:$PATH
shapes=${1:-llama-3.2-1b,llama-3-8b}
tokens=${2:-128}
geared=${3:-true}
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv 2>&1 | tee "$out/gpu.txt"
cp=$(ls "$here"/lib/*.jar | grep -v console-standalone | tr '\n' ':')
flags="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djava.io.tmpdir=/tmp"
for ptx in "$here"/ptx/*.ptx; do
  name=$(basename "$ptx" .ptx)
  echo "=== variant $name" | tee -a "$out/variants.log"
  timeout 240 java $flags -Xmx4g -Dgearbx.cuda.ptxFile="$ptx" -cp "$cp" dev.gearbx.kernels.cuda.CudaBench "$shapes" \
    "$tokens" 5 "$geared" 2>&1 | grep -v 'incubator modules' | tee "$out/bench-$name.log" \
    | grep -E '^(LOW|MID|HIGH) |^parts|^== |ratio' | tee -a "$out/variants.log"
done
