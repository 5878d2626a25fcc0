"""The reference's other experiment kinds as sweep modes (issue 11 §3): replicates over seeds, a learning-rate grid,
one job per dataset, whole-network baselines; planned, written, run and reported like any other sweep."""
import subprocess, sys
from pathlib import Path
import pandas as pd
import pytest, yaml
from stitchbook.config import load_config
from stitchbook.data import DEBIAN_FMNIST
from stitchbook.experiments import plan_experiment
from stitchbook.launch import launch
from stitchbook.report import summary, write_report
from stitchbook.results import ACC, VAL, collect, over_seeds, best_lr
from stitchbook.sweep import write_jobs
from shared import CONFIGS
from test_reference_configs import JOBS, name

EXE = str(Path(sys.executable).parent/'stitch-sweep')
needs_data = pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="needs Fashion-MNIST")
SWEEP = """
arch: fmnist_resnet
gaps: [{blocks_to_drop: [2, 2], num_downsamples: 1}]
stitchers: [downsample_then_linear, conv3x3_with_downsample]
train_config:
  dataset: fashion-mnist
  data_preprocessing: {image_size: 32, subset: 600, test_subset: 300}
  batch_size: 100
  epochs: 1
  seed: 3
"""

@pytest.mark.parametrize('path', [p for p in JOBS if isinstance(p, Path) and 'datasets' in load_config(p)] or
                         [pytest.param(None, marks=pytest.mark.skip(reason='no multi-dataset reference config'))], ids=name)
def test_reference_multi_dataset_config_plans_one_job_per_dataset(path, tmp_path):
    datasets = load_config(path)['datasets']
    p = plan_experiment(path, tmp_path)
    assert list(p.dataset) == datasets and (p.role == 'job').all()
    assert [Path(f).name for f in p.folder] == datasets                       # a folder named after each dataset
    assert [c['train_config']['dataset'] for c in p.config] == datasets
    assert all('datasets' not in c for c in p.config)
    folders = write_jobs(p, pretrained=False)
    assert yaml.safe_load((folders[0]/'metadata.yml').read_text())['dataset'] == datasets[0]

def test_bad_kind_keys_are_named(tmp_path):
    cfg = yaml.safe_load(SWEEP)
    for key, value, msg in [('seeds', [1, 1], 'seeds: must be a list of distinct'), ('lrs', ['fast'], 'lrs: must be'),
                            ('baselines', ['scrach'], "Did you mean 'scratch'")]:
        with pytest.raises(Exception, match=msg): plan_experiment({**cfg, key: value}, tmp_path, 'bad')

@needs_data
def test_replicates_and_baselines_run_and_report_the_spread(tmp_path):
    cfg = {**yaml.safe_load(SWEEP), 'seeds': [4], 'baselines': ['scratch']}
    p = plan_experiment(cfg, tmp_path, 'rep')
    assert p.role.value_counts().to_dict() == {'stitch': 4, 'baseline': 2, 'parent': 1}
    write_jobs(p, pretrained=False)
    done = launch(p, 'debug', pretrained=False, progress=False)
    assert (done.state == 'done').all(), done
    df = collect(tmp_path)
    runs = df[(df.role == 'stitch') & (df.Epoch == 1)]
    assert sorted(runs.seed) == [3, 3, 4, 4]
    pair = runs.sort_values('seed').groupby('adapter')
    for _, g in pair:                                   # the same images, another initialisation and order
        assert g[ACC].nunique() == 2 or g['Overall/Train Loss'].nunique() == 2
    s = over_seeds(df)
    assert set(s[s.role == 'stitch'].seeds) == {2} and s[s.role == 'stitch'].accuracy_std.notna().all()
    assert set(s[s.role == 'baseline'].seeds) == {2}
    table = summary(df)
    assert '± std' in table and (table.seeds == 2).all()
    page = write_report(df, tmp_path/'report')['html'].read_text()
    assert '2 seeds per job' in page

def test_cli_plans_replicates_and_an_lr_grid_and_names_a_bad_list(tmp_path):
    cfg = tmp_path/'s.yml'
    cfg.write_text(SWEEP)
    r = subprocess.run([EXE, '-c', str(cfg), '-o', str(tmp_path/'out'), '--dry-run', '--seeds', '5', '--lrs', '1e-3,1e-2'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    lines = [l.split() for l in r.stdout.splitlines() if 'downsample_then_linear' in l]
    assert len(lines) == 4                                       # 2 learning rates x 2 seeds (3 and 5)
    assert sorted(float(l[1]) for l in lines) == [0.001, 0.001, 0.01, 0.01]
    r = subprocess.run([EXE, '-c', str(cfg), '--dry-run', '--seeds', 'five'], capture_output=True, text=True)
    assert r.returncode == 2 and '--seeds takes numbers separated by commas' in r.stderr
