"Data-parallel training under torchrun: two CPU processes (gloo) give the single-process results."
import subprocess, sys
from pathlib import Path
import pandas as pd, pytest
from stitchbook.job import load_results
from stitchbook.data import DEBIAN_FMNIST
from test_train import small, write, not_time

pytestmark = pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="needs Fashion-MNIST (./run.sh test installs it)")
BIN = Path(sys.executable).parent

def test_two_gloo_processes_match_one(tmp_path):
    cfg = small(epochs=2)
    one, two = write(cfg, tmp_path/'one'), write(cfg, tmp_path/'two')
    args = ['-c', None, '--no-pretrained', '--deterministic', '--device', 'cpu']
    r1 = subprocess.run([str(BIN/'stitch-train')] + [str(one) if a is None else a for a in args], capture_output=True, text=True)
    assert r1.returncode == 0, r1.stderr[-3000:]
    r2 = subprocess.run([str(BIN/'torchrun'), '--standalone', '--nproc-per-node', '2', str(BIN/'stitch-train')] +
                        [str(two) if a is None else a for a in args], capture_output=True, text=True)
    assert r2.returncode == 0, r2.stderr[-3000:]
    a, b = load_results(tmp_path/'one'/'result-0.parquet'), load_results(tmp_path/'two'/'result-0.parquet')
    assert list(b.Step) == list(a.Step) == [0, 20, 40]                 # the global batch is the single-process one
    pd.testing.assert_frame_equal(not_time(b), not_time(a), atol=5e-3, rtol=1e-3)   # a few of 1,000 test images may flip
