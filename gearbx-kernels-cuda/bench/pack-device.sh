#!/usr/bin/env bash
# Packs what device-run.sh needs into <repo>/.device/cuda (git-ignored): a JRE (../shared/tools/device-jre's
# jlink recipe), the module jars with JCuda, the JUnit console launcher, the test classes and stories260K.
# Run from the repository root after: mvn -B -o -q -pl gearbx-kernels-cuda -am package -DskipTests
# Optional argument: another folder to copy the packed folder to (the checkout the device tool sends).
set -euo pipefail
jdk=${JAVA25_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}
dest=.device/cuda
mkdir -p "$dest/lib" "$dest/models"
if [ ! -f "$dest/jre.tar.xz" ]; then
  tmp=$(mktemp -d)
  "$jdk/bin/jlink" --add-modules java.base,java.logging,java.management,jdk.management,jdk.incubator.vector,jdk.unsupported,java.naming,java.xml \
    --strip-debug --no-header-files --no-man-pages --compress=zip-9 --output "$tmp/jre" 2>&1 | grep -v 'incubator modules' || true
  tar -C "$tmp/jre" -cf - . | xz -6 -T2 > "$dest/jre.tar.xz"
  rm -rf "$tmp"
fi
rm -f "$dest"/lib/gearbx-*.jar
cp gearbx-engine/target/gearbx-engine-*.jar gearbx-reactive/target/gearbx-reactive-*.jar \
  gearbx-kernels-cuda/target/gearbx-kernels-cuda-*.jar "$dest/lib/"
m2=${M2_REPO:-$HOME/.m2/repository}
cp "$m2"/org/jcuda/jcuda/12.6.0/jcuda-12.6.0.jar "$m2"/org/jcuda/jcuda-natives/12.6.0/jcuda-natives-12.6.0-linux-x86_64.jar "$dest/lib/"
console="$m2/org/junit/platform/junit-platform-console-standalone/1.14.4/junit-platform-console-standalone-1.14.4.jar"
[ -f "$console" ] || mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:get \
  -Dartifact=org.junit.platform:junit-platform-console-standalone:1.14.4
cp "$console" "$dest/lib/"
rm -rf "$dest/test-classes" && cp -r gearbx-kernels-cuda/target/test-classes "$dest/test-classes"
cp "${GEARBX_MODELS:-../shared/models}/stories260K.gguf" "$dest/models/"
cp gearbx-kernels-cuda/bench/device-run.sh gearbx-kernels-cuda/bench/device-compare.sh gearbx-kernels-cuda/bench/device-ptx-variants.sh gearbx-kernels-cuda/bench/device-ncu.sh gearbx-kernels-cuda/bench/torch_baseline.py "$dest/"
du -sh "$dest"
if [ $# -gt 0 ]; then
  mkdir -p "$1/.device" && rm -rf "$1/.device/cuda" && cp -r "$dest" "$1/.device/cuda"
fi
