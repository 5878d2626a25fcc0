"Sweep planning on the reference's across-scales configs: every applicable job folder is written and builds."
import re
import pytest, torch, yaml
from stitchbook.config import load_config
from stitchbook.assembly import model_from_config
from stitchbook.sweep import plan, write_jobs, METADATA
from shared import reference_configs

def _is_sweep(p): return not hasattr(p, 'read_text') or re.search(r'^(src_)?stages:', p.read_text(), re.M)
SWEEPS = [p for p in reference_configs('across-scales') if _is_sweep(p)]      # not the included gap and stitcher lists

@pytest.mark.parametrize('path', SWEEPS, ids=lambda p: getattr(p, 'name', 'none'))
def test_reference_sweep_writes_every_applicable_job_and_each_builds(path, tmp_path):
    p = plan(path, tmp_path)
    n_gaps, n_stitchers = len(load_config(path)['gaps']), len(load_config(path)['stitchers'])
    assert (p.role == 'stitch').sum() == n_gaps * n_stitchers and p.applies.sum() > n_gaps
    assert (p.role == 'parent').sum() == (1 if 'stages' in load_config(path) else 2)          # one network, or source and destination
    folders = write_jobs(p, pretrained=False)
    assert sorted(map(str, folders)) == sorted(p[p.applies].folder)
    nets = {}                                                  # random weights, shared between the builds
    x = torch.randn(2, 3, 224, 224)
    for folder in folders:
        meta = yaml.safe_load((folder/'metadata.yml').read_text())
        assert list(meta)[:len(METADATA)] == list(METADATA)
        if meta['same_as']:                                    # the same config as a job built here already
            assert (folder/'config.yml').read_text() == (folder.parent/meta['same_as']/'config.yml').read_text()
            continue
        model = model_from_config(load_config(folder/'config.yml'), pretrained=False, networks=nets).eval()
        with torch.no_grad(): assert model(x).shape == (2, 1000), folder.name
    assert folders[0].parent.name == path.stem and folders[0].name.startswith(f"parent-{path.stem}-")
    assert folders[-1].name.startswith(f"train-{path.stem}-gap-")

SMALL_SWEEP = """
arch: fmnist_resnet
gaps: [{blocks_to_drop: [2, 2], num_downsamples: 1}]
stitchers: [finetune, linear_no_downsample, downsample_then_linear]
train_config:
  dataset: fashion-mnist
  data_preprocessing: {image_size: 32, subset: 1000, test_subset: 500}
  batch_size: 100
  epochs: 1
"""

def test_sweep_cli_dry_run_write_run_rerun_and_status(tmp_path):
    import subprocess, sys
    from pathlib import Path
    from stitchbook.data import DEBIAN_FMNIST
    if not DEBIAN_FMNIST.exists(): pytest.skip("needs Fashion-MNIST")
    exe = str(Path(sys.executable).parent/'stitch-sweep')
    cfg, out = tmp_path/'small.yml', tmp_path/'exp'
    cfg.write_text(SMALL_SWEEP)
    run = lambda *a: subprocess.run([exe, *a], capture_output=True, text=True)
    status = lambda *a: subprocess.run([str(Path(exe).with_name('stitch-status')), *a], capture_output=True, text=True)
    r = run('-c', str(cfg), '-o', str(out), '--dry-run')
    assert r.returncode == 0 and 'linear_no_downsample' in r.stdout and not out.exists()       # writes nothing
    r = run('-c', str(cfg), '-o', str(out), '--do-not-launch', '--no-pretrained')
    jobs = sorted((out/'across-scales'/'small').iterdir())
    assert r.returncode == 0 and [j.name for j in jobs] == ['parent-small-fmnist_resnet', 'train-small-gap-2,2-adapter-downsample_then_linear',
                                                            'train-small-gap-2,2-adapter-linear_no_downsample']
    assert all((j/'config.yml').exists() and (j/'metadata.yml').exists() and not list(j.glob('result-*')) for j in jobs)
    r = run('-c', str(cfg), '-o', str(out), '--no-pretrained', '--executor', 'debug')
    assert r.returncode == 0, r.stderr[-2000:]
    assert all((j/'result-0.parquet').exists() for j in jobs[1:]) and (jobs[0]/'test-0.parquet').exists()
    r = status('-c', str(cfg), '-o', str(out))
    assert r.returncode == 0 and r.stdout.count('done') >= 3 and 'new' not in r.stdout
    r = run('-c', str(cfg), '-o', str(out), '--no-pretrained')
    assert 'every job is done already' in r.stdout                                           # idempotent
    cfg.write_text(SMALL_SWEEP.replace('epochs: 1', 'epochs: 2'))                            # the sweep changed under done jobs
    before = {j: (j/'config.yml').read_text() for j in jobs}
    r = run('-c', str(cfg), '-o', str(out), '--no-pretrained')
    assert r.returncode == 2 and 'already ran with a different config' in r.stderr and '--force' in r.stderr
    assert {j: (j/'config.yml').read_text() for j in jobs} == before                         # refused before writing anything
