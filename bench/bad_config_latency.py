"""How long a bad config takes to be refused: `check_config_file` (the model-free phase, which imports no torch) against
the whole `stitch-train -c FIXTURE`, each in a fresh process, on the fixtures of tests/bad_configs/ whose mistake needs
no model (tests/test_fail_fast.py's list). Both print the fixture's expected message; the medians and their ratio are
printed. Every fixture must fail in under 3 s of wall time through `check_config_file`.

    .venv/bin/python bench/bad_config_latency.py        # every model-free fixture
    .venv/bin/python bench/bad_config_latency.py 5      # the first 5 (stitch-train takes 10-25 s each on 2 cores)
    STITCH_TRAIN=path/to/stitch-train .venv/bin/python bench/bad_config_latency.py    # another build's CLI
"""
import os, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tests'))
from test_fail_fast import MODEL_FREE, expected

ENV = {**os.environ, 'HF_HUB_OFFLINE': '1'}
CHECK = "import sys; from stitchbook.config import check_config_file; check_config_file(sys.argv[1])"

def wall(cmd:list, path:Path)->float:
    "Seconds `cmd` takes to refuse `path`, checked to exit with an error that holds the fixture's expected message."
    t0 = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, cwd=ROOT)
    secs = time.time() - t0
    assert r.returncode != 0 and expected(path) in r.stderr, f"{' '.join(cmd)}:\n{r.stderr[-2000:]}"
    return secs

n = int(sys.argv[1]) if len(sys.argv) > 1 else len(MODEL_FREE)
train = os.environ.get('STITCH_TRAIN', str(Path(sys.executable).parent/'stitch-train'))
light, full = [], []
for path in MODEL_FREE[:n]:
    light.append(wall([sys.executable, '-c', CHECK, str(path)], path))
    full.append(wall([train, '-c', str(path)], path))
    print(f"{path.stem:28s} check_config_file {light[-1]:5.2f} s   stitch-train {full[-1]:6.2f} s", flush=True)
ml, mf = statistics.median(light), statistics.median(full)
print(f"{len(light)} bad configs: check_config_file median {ml:.2f} s (max {max(light):.2f} s), stitch-train median "
      f"{mf:.2f} s (max {max(full):.2f} s): {mf / ml:.0f}x faster; all under 3 s: {max(light) < 3}")
