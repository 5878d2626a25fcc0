#!/usr/bin/env bash
# stitchbook's two commands on a fresh machine:
#   ./run.sh demo   the main job on the embedded default
#   ./run.sh test   the whole test suite (what CI runs)
# Each makes .venv if needed, installs everything into it, then runs.
set -euo pipefail
cd "$(dirname "$0")"
VENV=${VENV:-.venv}
PY="$VENV/bin/python"
# torch's CUDA build of this release is the one that works with torchvision here; override for other platforms.
TORCH_SPEC=${TORCH_SPEC:-"torch==2.14.1 torchvision==0.29.1"}

system_packages() {   # Debian packages, installed when we are root and apt-get is there
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: cannot install ${missing[*]} (needs root and apt-get); see README.md" >&2
  fi
}

venv() {
  local stamp="$VENV/.stitchbook-installed"
  if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then return 0; fi
  python3 -m venv "$VENV" 2>/dev/null || { system_packages python3-venv; python3 -m venv "$VENV"; }
  "$PY" -m pip install -q --upgrade pip
  "$PY" -m pip install -q $TORCH_SPEC
  "$PY" -m pip install -q -e '.[dev]'
  touch "$stamp"
}

unchanged_by() {      # run a command and fail if it changed tracked or untracked files
  local before after
  before=$(git status --porcelain 2>/dev/null || true)
  "$@" >/dev/null
  after=$(git status --porcelain 2>/dev/null || true)
  if [ "$before" != "$after" ]; then
    echo "FAILED: '$*' changed files: the package or notebooks were out of sync. Run it and commit the result:" >&2
    diff <(echo "$before") <(echo "$after") >&2 || true
    return 1
  fi
  echo "ok: $* leaves the tree unchanged"
}

cmd_test() {
  system_packages dataset-fashion-mnist chromium chromium-driver
  venv
  export PATH="$PWD/$VENV/bin:$PATH" HF_HUB_OFFLINE=1 PYTHONHASHSEED=0
  unchanged_by nbdev-export
  unchanged_by nbdev-clean
  nbdev-test --n-workers 2
  python -m pytest "$@"
}

cmd_demo() {
  # The main job: the embedded across-scales sweep. Trains (or loads) the zoo networks it needs, plans every gap x
  # default stitcher that applies for a same-architecture pair (ResNet -> ResNet) and a cross-architecture pair
  # (ResNet -> ViT), runs each job as a papermill notebook through submitit's local executor, measures how alike the
  # two pairs' activations are at every pair of cut points (linear CKA, and the closed-form stitch of each planned gap,
  # on 256 images: seconds), then writes one results table and an offline HTML report under runs/embedded/.
  # Re-running skips the jobs that are done.
  system_packages dataset-fashion-mnist
  venv
  export PATH="$PWD/$VENV/bin:$PATH" HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1}
  local out=${1:-runs} rc=0
  SECONDS=0
  stitch-sweep -c configs/embedded/resnet.yml -c configs/embedded/resnet-vit.yml -o "$out" || rc=$?
  stitch-similarity -c configs/embedded/resnet.yml,configs/embedded/resnet-vit.yml -o "$out" --measures linear_cka \
    --no-zero-training --stitch-gaps-only --examples 256 || rc=$?
  stitch-report "$out/embedded" || rc=$?
  echo "main job: ${SECONDS} s wall; report: $out/embedded/report.html (exit $rc)"
  return $rc
}

cmd_docs() {
  venv
  export PATH="$PWD/$VENV/bin:$PATH"
  rm -rf _proc _docs
  nbdev-proc-nbs >/dev/null
  python tools/render_docs.py _proc _docs >/dev/null
  echo "docs: _docs/index.html (search needs the site served: python -m http.server -d _docs)"
}

case "${1:-}" in
  test) shift; cmd_test "$@" ;;
  demo) shift; cmd_demo "$@" ;;
  docs) shift; cmd_docs "$@" ;;
  *) echo "usage: ./run.sh demo | ./run.sh test [pytest args] | ./run.sh docs" >&2; exit 2 ;;
esac
