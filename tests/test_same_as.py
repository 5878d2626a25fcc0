"""Identical jobs of a sweep train once (issue 11 §1): both are planned and written, the second gets the first's
results (`same_as`) through the real local executor with either chunking, `status` and the results table say so, and a
relaunch after an interrupted fill-in completes it without training anything again."""
import json, subprocess
import pandas as pd
import pytest
from stitchbook.results import collect, final
from shared import SWEEP_EXE, STATUS_EXE, fmnist_sweep, needs_fmnist

# The zoo's ResNet after its second stage hands on 4x4 features; the zoo's ViT reads a 4x4 grid: nothing to resize, so
# downsample_then_linear is linear_no_downsample, and downsample_then_3x3conv is conv3x3_with_downsample (stride 1).
STITCHERS = ['linear_no_downsample', 'downsample_then_linear', 'conv3x3_with_downsample', 'downsample_then_3x3conv']
TWINS = {'downsample_then_linear': 'linear_no_downsample', 'downsample_then_3x3conv': 'conv3x3_with_downsample'}

def _events(folder):
    path = folder/'attempts.jsonl'
    return [json.loads(l)['event'] for l in open(path)] if path.exists() else []

@needs_fmnist()
@pytest.mark.parametrize('chunk', ['gap', 'job'])
def test_identical_jobs_train_once_and_a_relaunch_fills_them_in(chunk, tmp_path):
    cfg, out = tmp_path/'twins.yml', tmp_path/'exp'
    cfg.write_text(fmnist_sweep(STITCHERS, gap=(3, 3), num_downsamples=0, chunk=chunk, parallel=2, subset=600,
                               test_subset=300, epochs=1, src_arch='fmnist_resnet', dest_arch='fmnist_vit',
                               reformat_options={'class_token': 'avg'}))
    run = lambda *a: subprocess.run([SWEEP_EXE, *a, '-c', str(cfg), '-o', str(out)], capture_output=True, text=True)
    status = lambda: subprocess.run([STATUS_EXE, '-c', str(cfg), '-o', str(out)], capture_output=True, text=True)
    r = run('--no-pretrained')
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert '2 share the run of a job with the same config: 4 to run' in r.stdout      # 2 parents + 2 stitches
    root = out/'across-scales'/'twins'
    job = lambda st: root/f"train-twins-gap-3,3-adapter-{st}"
    for twin, first in TWINS.items():
        assert _events(job(first)) == ['start', 'done'] and _events(job(twin)) == []     # trained once, the twin never
        assert (job(twin)/'config.yml').read_text() == (job(first)/'config.yml').read_text()
        table = lambda j: pd.read_parquet(job(j)/'result-0.parquet')
        pd.testing.assert_frame_equal(table(twin), table(first))
        assert json.loads((job(twin)/'status.json').read_text())['same_as'] == job(first).name
    st = status()
    assert st.returncode == 0 and 'same_as' in st.stdout and 'shared: 2 job(s)' in st.stdout and 'new' not in st.stdout
    f = final(collect(out))
    assert dict(zip(f.adapter, f.same_as)) == {'parent': '', 'linear_no_downsample': '', 'conv3x3_with_downsample': '',
                                               **{t: job(o).name for t, o in TWINS.items()}}
    twin = job('downsample_then_linear')                   # a launch stopped after the first job, before the fill-in
    for p in [*twin.glob('result-*'), twin/'status.json', twin/'model.json']: p.unlink()
    st = status()
    assert 'missing: 1 job(s)' in st.stdout, st.stdout
    r = run('--no-pretrained')
    assert r.returncode == 0 and 'every job is done already' not in r.stdout, r.stdout            # it had one to fill
    assert (twin/'result-0.parquet').exists() and (twin/'model.json').exists() and _events(twin) == []
    assert all(_events(job(o)) == ['start', 'done'] for o in TWINS.values())             # nothing trained again
    assert 'every job is done already' in run('--no-pretrained').stdout
