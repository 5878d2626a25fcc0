"""How long a bad config takes to be refused by the installed commands: `stitch-train -c FIXTURE` and
`stitch-check -c FIXTURE`, each in a fresh process, on the fixtures of tests/bad_configs/ whose mistake needs no model
(tests/test_fail_fast.py's list). Each run must exit 2 with the fixture's expected message; the medians and maxima are
printed, and every fixture must be refused in under 3 s of wall time (issue 12, acceptance 7).

    .venv/bin/python bench/bad_config_latency.py        # every model-free fixture, both commands
    .venv/bin/python bench/bad_config_latency.py 5      # the first 5
    STITCH_BIN=path/to/venv/bin .venv/bin/python bench/bad_config_latency.py    # another build's commands
"""
import os, statistics, subprocess, sys, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT/'tests'))
from test_fail_fast import MODEL_FREE, COMMANDS, expected

ENV = {**os.environ, 'HF_HUB_OFFLINE': '1'}
BIN = Path(os.environ.get('STITCH_BIN', Path(sys.executable).parent))
LIMIT = 3.0

def wall(cmd:list, path:Path)->float:
    "Seconds `cmd` takes to refuse `path`, checked to exit 2 with the fixture's expected message."
    t0 = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, cwd=ROOT)
    secs = time.perf_counter() - t0
    assert r.returncode == 2 and expected(path) in r.stderr, f"{' '.join(cmd)}:\n{r.stderr[-2000:]}"
    return secs

n = int(sys.argv[1]) if len(sys.argv) > 1 else len(MODEL_FREE)
times = {c: [] for c in COMMANDS}
for path in MODEL_FREE[:n]:
    for c in COMMANDS: times[c].append(wall([str(BIN/c), '-c', str(path)], path))
    print(f"{path.stem:28s} " + '   '.join(f"{c} {times[c][-1]:5.2f} s" for c in COMMANDS), flush=True)
worst = max(max(t) for t in times.values())
for c, t in times.items():
    print(f"{c}: {len(t)} bad configs, median {statistics.median(t):.2f} s, max {max(t):.2f} s")
print(f"all under {LIMIT:.0f} s: {worst < LIMIT} (slowest {worst:.2f} s)")
sys.exit(0 if worst < LIMIT else 1)
