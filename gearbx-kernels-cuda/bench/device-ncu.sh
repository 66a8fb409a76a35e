#!/usr/bin/env bash
# Profiles one launch of the kernels matching a regular expression with Nsight Compute (when the GPU machine has
# ncu), inside CudaBench on one shape. Report to $OUT/ncu-<name>-<skip>.txt.
# Usage: bash .device/cuda/device-ncu.sh <kernel regex> [shape] [launches to skip] [ncu sections...]
# NCU_COUNT (environment): launches to profile (default 1); NCU_CLOCKS=base locks the clocks as ncu does by default
# (the default here is the card's own clocks, as in the bench).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${OUT:-$PWD/device-out}
mkdir -p "$out" /tmp/jre
[ -x /tmp/jre/bin/java ] || tar xJf "$here/jre.tar.xz" -C /tmp/jre
export PATH=/tmp/jre/bin:$PATH
regex=$1; shape=${2:-llama-3-8b}; skip=${3:-200}; shift $(( $# < 3 ? $# : 3 ))
ncu=$(command -v ncu || ls /usr/local/cuda/bin/ncu /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
if [ -z "$ncu" ]; then echo "no ncu on this machine" | tee "$out/ncu-missing.txt"; exit 0; fi
sections=${*:---section SpeedOfLight --section Occupancy --section LaunchStats --section WarpStateStats --section MemoryWorkloadAnalysis --section SchedulerStats}
cp=$(ls "$here"/lib/*.jar | grep -v console-standalone | tr '\n' ':')
name=$(echo "$regex" | tr -c 'a-zA-Z0-9_\n' '_')
timeout 300 "$ncu" --target-processes all -k "regex:$regex" --launch-skip "$skip" --launch-count "${NCU_COUNT:-1}" --clock-control "${NCU_CLOCKS:-none}" $sections \
  java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djava.io.tmpdir=/tmp -Xmx4g -cp "$cp" \
  dev.gearbx.kernels.cuda.CudaBench "$shape" 8 1 true > "$out/ncu-$name-$skip.txt" 2>&1
echo "ncu exit $? -> $out/ncu-$name-$skip.txt"
