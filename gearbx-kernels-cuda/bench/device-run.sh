#!/usr/bin/env bash
# Runs the CUDA backend's GPU tests, its benchmark and the PyTorch baseline on the GPU machine, from a folder
# packed by pack-device.sh (JRE, jars, test classes, stories260K). Logs go to $OUT (or ./device-out).
# Usage: bash .device/cuda/device-run.sh [tests|bench|torch|all] [bench shapes] [tokens] [outputInGears]
# BENCH_OPTS (environment): extra JVM options for the bench, e.g. -Dgearbx.cuda.rowsPerWarp=1 (its first
# configuration reads the gearbx.cuda.* properties; the second is the same with RMSNorm kernels).
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${OUT:-$PWD/device-out}
mkdir -p "$out" /tmp/jre
tar xJf "$here/jre.tar.xz" -C /tmp/jre && export PATH=/tmp/jre/bin:$PATH
what=${1:-all}
shapes=${2:-llama-3.2-1b,llama-3-8b}
tokens=${3:-128}
geared=${4:-both}
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv 2>&1 | tee "$out/gpu.txt"
cp=$(ls "$here"/lib/*.jar | grep -v console-standalone | tr '\n' ':')
flags="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djava.io.tmpdir=/tmp"
if [ "$what" = all ] || [ "$what" = tests ]; then
  timeout 240 java $flags -Xmx4g -Dgearbx.models="$here/models" -jar "$here"/lib/junit-platform-console-standalone-*.jar \
    execute --class-path "$cp$here/test-classes" --select-class dev.gearbx.kernels.cuda.CudaProviderTest --select-class dev.gearbx.kernels.cuda.CudaDifferentialTest --select-class dev.gearbx.kernels.cuda.CudaTopKSamplingTest --details=tree --disable-ansi-colors \
    --disable-banner 2>&1 | grep -v 'incubator modules' | tee "$out/tests.log"
fi
if [ "$what" = all ] || [ "$what" = bench ]; then
  timeout 300 java $flags -Xmx4g ${BENCH_OPTS:-} -cp "$cp" dev.gearbx.kernels.cuda.CudaBench "$shapes" "$tokens" 5 "$geared" 2>&1 \
    | grep -v 'incubator modules' | tee "$out/bench.log"
fi
if [ "$what" = all ] || [ "$what" = torch ]; then
  PYTHONUNBUFFERED=1 timeout 200 python3 "$here/torch_baseline.py" "$tokens" 5 2>&1 | tee "$out/torch.log"
fi
