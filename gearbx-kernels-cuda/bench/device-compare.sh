#!/usr/bin/env bash
# Runs on the GPU machine from a folder packed by pack-device.sh plus base-lib/ (the gearbx jars and JCuda jars of
# the code to compare against, e.g. main built from `git archive`): the GPU tests on the new code, then CudaBench
# (both shapes, 128 tokens, 5 runs, output in the gears) on the new jars and on base-lib, then the PyTorch baseline,
# all on one card. Logs go to $OUT. Environment: TESTS=0, BASE=0, TORCH=0 skip parts; TT, BT, PT are time limits (s).
# Usage: bash .device/<name>/device-compare.sh
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${OUT:-$PWD/device-out}
mkdir -p "$out" /tmp/jre
tar xJf "$here/jre.tar.xz" -C /tmp/jre && export PATH=/tmp/jre/bin:$PATH
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv 2>&1 | tee "$out/gpu.txt"
date -u | tee -a "$out/gpu.txt"
cp=$(ls "$here"/lib/*.jar | grep -v console-standalone | tr '\n' ':')
cpb=$(ls "$here"/base-lib/*.jar | tr '\n' ':')
flags="--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Djava.io.tmpdir=/tmp"
shapes=${SHAPES:-llama-3.2-1b,llama-3-8b}
if [ "${TESTS:-1}" = 1 ]; then
timeout ${TT:-200} java $flags -Xmx4g -Dgearbx.models="$here/models" -jar "$here"/lib/junit-platform-console-standalone-*.jar \
  execute --class-path "$cp$here/test-classes" --select-class dev.gearbx.kernels.cuda.CudaProviderTest --select-class dev.gearbx.kernels.cuda.CudaDifferentialTest --select-class dev.gearbx.kernels.cuda.CudaTopKSamplingTest --details=tree --disable-ansi-colors \
  --disable-banner 2>&1 | grep -v 'incubator modules' > "$out/tests.log"
grep -E "tests (successful|failed)|MethodSource|✘|max rel" "$out/tests.log" | tail -30
fi
for v in new base; do
  c=$cp; [ $v = base ] && c=$cpb
  [ "${BASE:-1}" = 0 ] && [ $v = base ] && continue
  timeout ${BT:-150} java $flags -Xmx4g -cp "$c" dev.gearbx.kernels.cuda.CudaBench "$shapes" 128 5 true 2>&1 \
    | grep -v 'incubator modules' > "$out/bench-$v.log"
  echo "== bench $v"; grep -vE "^routed" "$out/bench-$v.log" | cut -c1-400
done
if [ "${TORCH:-1}" = 1 ]; then
  PYTHONUNBUFFERED=1 timeout ${PT:-120} python3 "$here/torch_baseline.py" 128 5 > "$out/torch.log" 2>&1; tail -8 "$out/torch.log"
fi
date -u
