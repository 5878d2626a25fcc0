"""The cross test (`stitchbook.cross`) and the `part_weights` it builds on: a job's own encoder and head reproduce its
accuracy exactly, checkpoints are named when missing, and loaded parts hold the checkpoint's weights."""
from pathlib import Path
import pytest, torch, yaml
from stitchbook.assembly import model_from_config, weight_sources
from stitchbook.config import ConfigError
from stitchbook.cross import cross_plan, cross_results, cross_grid
from stitchbook.data import DEBIAN_FMNIST
from stitchbook.job import train_job
from stitchbook.sweep import write_jobs

pytestmark = pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="needs Fashion-MNIST (./run.sh test installs it)")
ACC = 'Overall/Test Accuracy'

def job_config(seed:int, lr:float)->dict:
    "A convnet and its head on a small Fashion-MNIST subset: a job of a few seconds."
    return {'assembly': [{'Net': {'model_name': 'convnet', 'num_blocks': 2, 'num_filters': 8, 'x_dim': 1}},
                         {'ClassifierHead': {'pooled_size': 4}}],
            'train_config': {'dataset': 'fashion-mnist', 'batch_size': 100, 'epochs': 1, 'seed': seed,
                             'optimizer': 'Adam', 'optimizer_args': {'lr': lr},
                             'data_preprocessing': {'subset': 1000, 'test_subset': 400}}}

@pytest.fixture(scope='module')
def jobs(tmp_path_factory):
    "Two finished fine-tunings, `a` and `b`, and their own final test accuracy."
    root = tmp_path_factory.mktemp('runs')
    acc = {}
    for name, seed, lr in (('a', 1, 1e-2), ('b', 2, 3e-3)):
        (root/name).mkdir()
        (root/name/'config.yml').write_text(yaml.safe_dump(job_config(seed, lr)))
        acc[name] = train_job(root/name/'config.yml', root/name, progress=False)[ACC].iloc[-1]
    return root, acc

def test_the_diagonal_reproduces_each_jobs_own_accuracy(jobs, tmp_path):
    root, acc = jobs
    (root/'cross.yml').write_text(yaml.safe_dump({'cross_test': {'jobs': ['a', 'b'], 'original': False}}))
    p = cross_plan(root/'cross.yml', tmp_path/'out')
    assert list(zip(p.encoder, p['head'])) == [('a', 'a'), ('b', 'a'), ('a', 'b'), ('b', 'b')]
    assert set(p.role) == {'cross'} and all(c['test_only'] for c in p.config)
    for f in write_jobs(p): train_job(f/'config.yml', f, progress=False)
    grid = cross_grid(cross_results(p))
    assert grid.loc['a', 'a'] == acc['a'] and grid.loc['b', 'b'] == acc['b']
    assert grid.notna().all().all() and list(grid.index) == ['a', 'b'] and list(grid.columns) == ['a', 'b']

def test_a_missing_checkpoint_is_named_with_its_key_and_path(jobs, tmp_path):
    missing = tmp_path/'gone'/'checkpoint-last.pt'
    cfg = {**job_config(0, 1e-3), 'part_weights': [{'checkpoint': str(missing), 'parts': [0]}]}
    with pytest.raises(ConfigError, match=r"part_weights\[0\]\.checkpoint: no checkpoint file") as e:
        model_from_config(cfg, num_classes=10)
    assert str(missing) in str(e.value)
    (tmp_path/'unfinished').mkdir()
    (tmp_path/'unfinished'/'config.yml').write_text(yaml.safe_dump(job_config(0, 1e-3)))
    (tmp_path/'cross.yml').write_text(yaml.safe_dump({'cross_test': {'jobs': [str(jobs[0]/'a'), 'unfinished']}}))
    with pytest.raises(ConfigError, match=r"cross_test\.jobs\[1\]: .*unfinished has no checkpoint-last\.pt"):
        cross_plan(tmp_path/'cross.yml', tmp_path/'out')

def test_part_weights_are_the_checkpoints(jobs):
    root, _ = jobs
    state = torch.load(root/'a'/'checkpoint-last.pt', weights_only=True)['model']
    cfg = {**job_config(5, 1e-3), 'part_weights': [{'checkpoint': str(root/'a'/'checkpoint-last.pt'), 'parts': [1]}]}
    torch.manual_seed(5)
    model = model_from_config(cfg, num_classes=10)
    mine = model.state_dict()
    head = [k for k in mine if k.startswith('steps.1.')]
    assert head and all(torch.equal(mine[k], state[k]) for k in head)                      # the head: the checkpoint's
    assert not all(torch.equal(mine[k], state[k]) for k in mine if k.startswith('steps.0.'))  # the encoder: its own
    src = weight_sources(model)[1]
    ckp = str((root/'a'/'checkpoint-last.pt').resolve())
    assert (src['part'], src['source'], src['path']) == ('assembly[1]', 'job checkpoint', ckp)

def test_a_part_that_does_not_fit_is_named(jobs):
    root, _ = jobs
    wide = job_config(0, 1e-3)
    wide['assembly'][0]['Net']['num_filters'] = 16
    wide['part_weights'] = [{'checkpoint': str(root/'b'/'checkpoint-last.pt'), 'parts': [0, 1]}]
    fit = r"part_weights\[0\]\.parts\[0\]: part 0 of .* does not fit assembly\[0\] \(Net\): its body\.encoder"
    with pytest.raises(ConfigError, match=fit):
        model_from_config(wide, num_classes=10)
