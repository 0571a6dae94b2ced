#!/usr/bin/env bash
# run.sh of the bundled GPU bench (built by scripts/build_gpu_bench.mjs, `npm run bench:gpu-bundle`):
#   bash run.sh [OUT_DIR] [bench options, e.g. --only 512]
# OUT_DIR: where gpu_bench.json and gpu_bench.log go (default $OUT, else ./gpu-bench-out).
# Needs bash, coreutils and xz (or python3) only: no Node, npm or network. It
#  1. unpacks the folder into a work folder (GPU_BENCH_WORK, default a new one under $TMPDIR or /tmp,
#     removed at exit unless GPU_BENCH_KEEP=1): node (the machine's `node` >= 20 if it has one, else
#     the carried node.xz; GPU_BENCH_NODE=PATH or GPU_BENCH_NODE=carried chooses) and Dawn's addon dawn.node;
#  2. sets up the Vulkan loader: each carried library of vulkan/ whose soname the machine lacks goes on
#     LD_LIBRARY_PATH (GPU_BENCH_CARRIED_LIBS=all: all of them); the NVIDIA driver's folder
#     /usr/local/nvidia/lib64 too when the linker does not know libGLX_nvidia.so.0; and, unless
#     VK_ICD_FILENAMES or VK_DRIVER_FILES is set, its ICD /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
#     when no NVIDIA ICD is in the standard folders;
#  3. lists the WebGPU adapters (exits 2, saying why, when there is none);
#  4. runs `bench.mjs --gpu` (tfdrr's `npm run bench -- --gpu`): the table last, the JSON and a log in OUT_DIR.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out_dir=${OUT:-$PWD/gpu-bench-out}
if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then out_dir=$1; shift; fi
mkdir -p "$out_dir"
out_dir=$(cd "$out_dir" && pwd)
log=$out_dir/gpu_bench.log
: >"$log"
say() { echo "gpu-bench: $*" | tee -a "$log"; }
fail() { say "ERROR: $*"; exit 2; }

[ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || fail "this folder holds linux-x64 binaries; this machine is $(uname -s)-$(uname -m)"
[ -f "$here/bench.mjs" ] || fail "no bench.mjs next to run.sh (build the folder with: npm run bench:gpu-bundle)"

unxz_to() { # unxz_to FILE.xz DEST
  if command -v xz >/dev/null 2>&1; then xz -dc "$1" >"$2"
  elif command -v python3 >/dev/null 2>&1; then python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' "$1" "$2"
  else fail "neither xz nor python3 found to unpack $1"; fi
}

if [ -n "${GPU_BENCH_WORK:-}" ]; then work=$GPU_BENCH_WORK; mkdir -p "$work"
else work=$(mktemp -d "${TMPDIR:-/tmp}/tfdrr-gpu-bench.XXXXXX"); fi
[ "${GPU_BENCH_KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT

# 1. the files, node and dawn.node
cp -R "$here/bench.mjs" "$here/data" "$here/dist" "$work/"
mkdir -p "$work/node_modules/webgpu/dist/linux-x64"
cp "$here/node_modules/webgpu/package.json" "$here/node_modules/webgpu/index.js" "$work/node_modules/webgpu/"
unxz_to "$here/node_modules/webgpu/dist/linux-x64/dawn.node.xz" "$work/node_modules/webgpu/dist/linux-x64/dawn.node"
node_bin=${GPU_BENCH_NODE:-}
[ "$node_bin" = carried ] && node_bin=
if [ -z "${GPU_BENCH_NODE:-}" ] && command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
  if [ "$major" -ge 20 ] 2>/dev/null; then node_bin=$(command -v node); else say "the machine's node is $(node --version 2>/dev/null || echo '?'), older than 20: using the carried one"; fi
fi
if [ -z "$node_bin" ]; then
  unxz_to "$here/node.xz" "$work/node"
  chmod +x "$work/node"
  node_bin=$work/node
fi

# 2. the Vulkan loader and driver
ldconfig_bin=$(command -v ldconfig || echo /sbin/ldconfig)
linker_cache=$("$ldconfig_bin" -p 2>/dev/null || true)
has_lib() { # the dynamic linker finds soname $1 (linker cache or LD_LIBRARY_PATH)
  grep -q "^[[:space:]]*$1 " <<<"$linker_cache" && return 0
  local d
  IFS=: read -r -a dirs <<<"${LD_LIBRARY_PATH:-}"
  for d in "${dirs[@]}"; do [ -n "$d" ] && [ -e "$d/$1" ] && return 0; done
  return 1
}
carried=()
mkdir -p "$work/vulkan"
for f in "$here"/vulkan/*; do
  [ -e "$f" ] || continue
  so=$(basename "$f")
  if [ "${GPU_BENCH_CARRIED_LIBS:-}" = all ] || ! has_lib "$so"; then cp "$f" "$work/vulkan/"; carried+=("$so"); fi
done
if [ ${#carried[@]} -gt 0 ]; then
  export LD_LIBRARY_PATH=$work/vulkan${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  say "carried libraries in use (the machine lacks them): ${carried[*]}"
fi
has_lib libvulkan.so.1 || fail "no Vulkan loader libvulkan.so.1 on this machine and none carried (build the folder on a machine with libvulkan1)"
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do
  if [ -e "$d/libGLX_nvidia.so.0" ] && ! has_lib libGLX_nvidia.so.0; then export LD_LIBRARY_PATH=${LD_LIBRARY_PATH:+$LD_LIBRARY_PATH:}$d; say "NVIDIA driver libraries from $d"; fi
done
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nvidia_icd" ] &&
  ! ls /etc/vulkan/icd.d/nvidia*.json /usr/share/vulkan/icd.d/nvidia*.json /usr/local/share/vulkan/icd.d/nvidia*.json >/dev/null 2>&1; then
  export VK_DRIVER_FILES=$nvidia_icd VK_ICD_FILENAMES=$nvidia_icd # the second for loaders older than 1.3.207
fi

say "node $("$node_bin" --version) ($node_bin); $(nproc) cores; VK_ICD_FILENAMES=${VK_ICD_FILENAMES:-unset} VK_DRIVER_FILES=${VK_DRIVER_FILES:-unset}; LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-unset}"
if command -v nvidia-smi >/dev/null 2>&1; then nvidia-smi -L 2>&1 | tee -a "$log" || true; fi
cat "$here/BUILD.txt" >>"$log" 2>/dev/null || true

# 3. the adapters
cd "$work"
if ! "$node_bin" bench.mjs --adapters 2>&1 | tee -a "$log"; then
  fail "no WebGPU adapter: Dawn found no usable Vulkan driver (see the loader's messages above). On an NVIDIA machine check that the driver's ICD json exists (e.g. $nvidia_icd, or set VK_DRIVER_FILES to it) and that its library libGLX_nvidia.so.0 can be loaded; without a GPU, point VK_ICD_FILENAMES at lavapipe from Mesa >= 25"
fi

# 4. the bench
say "bench: node bench.mjs --gpu --data <work>/data --out $out_dir/gpu_bench.json $*"
"$node_bin" bench.mjs --gpu --data "$work/data" --out "$out_dir/gpu_bench.json" "$@" 2>&1 | tee -a "$log"
say "wrote $out_dir/gpu_bench.json and $log"
