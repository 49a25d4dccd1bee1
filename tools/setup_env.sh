#!/usr/bin/env bash
# Creates the project's virtual environment with the dependency stack that works on
# torch 2.13 (see README, "Installation"), and does nothing when it is already set up.
#
# Settings (environment variables; the Makefile passes its own variables through):
#   PYTHON               interpreter for the venv             (default: python3.11)
#   VENV                 venv folder                          (default: .venv)
#   TORCH_VERSION        exact torch release                  (default: 2.13.0)
#   TORCHVISION_VERSION  matching torchvision release         (default: 0.28.0)
#   MMSEG_GCN_CACHE      wheel cache, outside the repository  (default: ~/.cache/mmseg_gcn)
#   MMCV_CUDA_OPS=1      build mmcv's CUDA ops too (slow; no model here needs them)
set -euo pipefail

PYTHON=${PYTHON:-python3.11}
VENV=${VENV:-.venv}
TORCH_VERSION=${TORCH_VERSION:-2.13.0}
TORCHVISION_VERSION=${TORCHVISION_VERSION:-0.28.0}
MMSEG_GCN_CACHE=${MMSEG_GCN_CACHE:-$HOME/.cache/mmseg_gcn}
MMCV_CUDA_OPS=${MMCV_CUDA_OPS:-0}
MMCV_VERSION=2.1.0

repo=$(cd "$(dirname "$0")/.." && pwd)
cd "$repo"

# Everything that decides what gets installed; a change to any of it re-runs the set-up.
setup_key=$( { echo "$PYTHON $TORCH_VERSION $TORCHVISION_VERSION $MMCV_VERSION $MMCV_CUDA_OPS"
               cat setup.cfg tools/setup_env.sh; } | sha256sum | cut -c1-16)
stamp="$VENV/.mmseg_gcn-setup-$setup_key"
if [ -f "$stamp" ] && [ -x "$VENV/bin/python" ]; then
    exit 0
fi

start=$(date +%s)
# Each step's line says when it began (seconds since the start): where the
# time of a first set-up goes.
log() { printf '\033[1m[setup +%ss]\033[0m %s\n' "$(( $(date +%s) - start ))" "$*"; }

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV with $PYTHON"
    "$PYTHON" -m venv "$VENV"
fi
py="$VENV/bin/python"
pip=("$py" -m pip --disable-pip-version-check --quiet)
# Some machines' pip configs name local index folders that lack most packages;
# pip warns once per package about each. Keep every other message.
quiet_pip() {
    "${pip[@]}" "$@" 2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
}

# setuptools < 81 still ships pkg_resources, which mmcv's setup.py and mmengine's
# 'mmseg::' config prefix import.
log "installing build tools and torch===$TORCH_VERSION, torchvision==$TORCHVISION_VERSION"
quiet_pip install --upgrade pip 'setuptools>=77,<81' wheel ninja numpy
# '===' asks for exactly this version string: '==' would also accept a local '+cpu'
# build that torchvision cannot load.
quiet_pip install "torch===$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"

# mmcv 2.1.0 is on PyPI only as source. Build it once and keep the wheel in a cache of
# our own, named after the torch it was built against: pip's own cache would reuse a
# wheel built for another torch without a word.
torch_tag=$("$py" -c 'import torch; v = torch.__version__.split("+")[0]; c = torch.version.cuda; print(v + "." + ("cu" + c.replace(".", "") if c else "cpu"))')
# The CPU ops are built without optimisation or debug info (-O0 -g0): no model
# here calls them (mmseg only imports mmcv.ops, which needs the library to
# load), and it cuts the compile from ~17 to a few minutes on 2 cores.
ops_tag=$([ "$MMCV_CUDA_OPS" = 1 ] && echo cudaops || echo cpuopsO0)
py_tag=$("$py" -c 'import sys; print(f"cp{sys.version_info.major}{sys.version_info.minor}")')
wheel_dir="$MMSEG_GCN_CACHE/wheels"
# The build tag (the part after the version) carries torch's version and flavour.
wheel="$wheel_dir/mmcv-$MMCV_VERSION-1torch${torch_tag}.${ops_tag}-$py_tag-$py_tag-linux_x86_64.whl"

if [ ! -f "$wheel" ]; then
    log "building mmcv $MMCV_VERSION against torch $torch_tag ($ops_tag); a few minutes on 2 cores, done once"
    build_dir=$(mktemp -d)
    trap 'rm -rf "$build_dir"' EXIT
    if [ "$MMCV_CUDA_OPS" = 1 ]; then
        export FORCE_CUDA=1
    else
        # A visible GPU would make mmcv compile its CUDA ops; the models here use none.
        export CUDA_VISIBLE_DEVICES=""
        # Appended after Python's own "-g ... -O3": the last -O and -g win.
        export CFLAGS="${CFLAGS:+$CFLAGS }-O0 -g0"
    fi
    MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
        "$py" -m pip wheel --disable-pip-version-check --no-build-isolation --no-deps \
        --no-cache-dir "mmcv==$MMCV_VERSION" -w "$build_dir" \
        2> >(grep -v 'is ignored: it is neither a file nor a directory' >&2)
    mkdir -p "$wheel_dir"
    mv "$build_dir"/mmcv-"$MMCV_VERSION"-*.whl "$wheel.partial"
    mv "$wheel.partial" "$wheel"
fi
installed_marker="$VENV/.mmcv-wheel"
if [ "$(cat "$installed_marker" 2>/dev/null)" != "$(basename "$wheel")" ]; then
    log "installing $(basename "$wheel")"
    quiet_pip install --no-deps --force-reinstall "$wheel"
    basename "$wheel" > "$installed_marker"
fi

log "installing mmseg_gcn (editable) with its runtime, test, CRF and deploy (ONNX) dependencies"
quiet_pip install -e '.[tests,crf,deploy]'

rm -f "$VENV"/.mmseg_gcn-setup-*
touch "$stamp"
log "done in $(( $(date +%s) - start )) s"
