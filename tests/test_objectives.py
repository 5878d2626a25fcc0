"""`train_config.objective`: feature matching trains the adapter on the destination's own features at its cut without
running the suffix; `feature_match_then_task` switches to the task loss at `feature_match_epochs`; the default is
today's task loss; resume is exact; bad values and jobs that cannot match are refused at the key."""
import math
import pytest, torch
from stitchbook import job
from stitchbook.config import check_config, ConfigError
from stitchbook.jobs import checkpoint_file

STITCH = [{'Subnet': {'model_name': 'test_resnet', 'block_output': 'layer2', 'frozen': True, 'pretrained': False,
                      'model_args': {'in_chans': 1}}},
          {'SimpleAdapter': {'num_conv': 1, 'in_channels': 48, 'out_channels': 48}},
          {'Subnet': {'model_name': 'test_resnet', 'block_input': 'layer3', 'out_format': 'vector', 'frozen': True,
                      'pretrained': False, 'model_args': {'in_chans': 1}}}]
g = torch.Generator().manual_seed(0)
IMAGES, LABELS = (torch.rand(192, 1, 16, 16, generator=g) * 255).to(torch.uint8), torch.arange(192) % 10
DATA = ((IMAGES[:128], LABELS[:128]), (IMAGES[128:], LABELS[128:]))   # two batches, and a test batch

def config(**tc):
    "The small stitch (a test ResNet to itself across layer3) on random 16 px images, with `tc` in its train_config."
    return {'assembly': STITCH, 'train_config': {'batch_size': 64, 'epochs': 2, 'seed': 0,
                                                 'optimizer_args': {'lr': 1e-2}, **tc}}

@pytest.fixture
def suffix_calls(monkeypatch):
    "The number of times each training epoch ran the destination's top (the last step that runs: maybe its copy)."
    calls, train_epoch = [], job.train_epoch
    def counted(run, progress=False):
        n = []
        hook = run.rest[-1].register_forward_hook(lambda *a: n.append(1))
        try: return train_epoch(run, progress)
        finally: hook.remove(); calls.append(len(n))
    monkeypatch.setattr(job, 'train_epoch', counted)
    return calls

def train(cfg, folder, **kw): return job.train_job(cfg, folder, pretrained=False, progress=False, data=DATA, **kw)

def test_feature_match_never_runs_the_suffix(tmp_path, suffix_calls):
    t = train(config(objective='feature_match', epochs=3), tmp_path/'job')
    assert suffix_calls == [0, 0, 0]
    loss = list(t['Overall/Train Loss'])
    assert loss[3] < loss[1], loss                                   # the distance to the destination's features
    assert [math.isnan(a) for a in t['Overall/Train Accuracy']] == [False, True, True, True]
    assert t['Overall/Test Accuracy'].notna().all()                  # tested as the whole stitched model

def test_feature_match_then_task_switches_at_E(tmp_path, suffix_calls, capsys):
    cfg = config(objective='feature_match_then_task', epochs=3, feature_match_epochs=1)
    t = train(cfg, tmp_path/'job')
    assert suffix_calls[0] == 0 and suffix_calls[1] > 0 and suffix_calls[2] > 0
    assert [math.isnan(a) for a in t['Overall/Train Accuracy']] == [False, True, False, False]

def test_objective_task_is_the_default(tmp_path):
    plain, said = train(config(epochs=1), tmp_path/'plain'), train(config(objective='task', epochs=1), tmp_path/'said')
    keep = [c for c in plain.columns if not c.startswith('Time/')]
    assert plain[keep].equals(said[keep])

def test_resume_mid_way_equals_an_uninterrupted_run(tmp_path, monkeypatch):
    cfg = config(objective='feature_match_then_task', epochs=3, feature_match_epochs=2)
    whole = train(cfg, tmp_path/'whole')
    train_epoch, epochs = job.train_epoch, []
    def crash_in_epoch_2(run, progress=False):
        epochs.append(run.epoch)
        if len(epochs) == 2: raise KeyboardInterrupt("killed")       # mid-way through the matching epochs
        return train_epoch(run, progress)
    monkeypatch.setattr(job, 'train_epoch', crash_in_epoch_2)
    with pytest.raises(KeyboardInterrupt): train(cfg, tmp_path/'resumed')
    monkeypatch.setattr(job, 'train_epoch', train_epoch)
    resumed = train(cfg, tmp_path/'resumed')
    keep = [c for c in whole.columns if not c.startswith('Time/')]
    assert resumed[keep].equals(whole[keep])
    a, b = (torch.load(checkpoint_file(tmp_path/f), weights_only=True)['model'] for f in ('whole', 'resumed'))
    assert all(torch.equal(a[k], b[k]) for k in a)

@pytest.mark.parametrize('tc, key, msg', [
    ({'objective': 'feature_matching'}, 'train_config.objective', "Did you mean 'feature_match'"),
    ({'objective': 3}, 'train_config.objective', "must be a string"),
    ({'objective': 'feature_match_then_task', 'feature_match_epochs': -1}, 'train_config.feature_match_epochs',
     "must be an integer >= 0"),
    ({'objective': 'feature_match_then_task', 'feature_match_epochs': True}, 'train_config.feature_match_epochs',
     "must be an integer >= 0"),
    ({'objective': 'feature_match', 'feature_match_epochs': 1}, 'train_config.feature_match_epochs',
     "read only with objective: feature_match_then_task"),
    ({'objective': 'feature_match', 'tasks': [{'dataset': 'mnist'}, {'dataset': 'fashion-mnist'}]},
     'train_config.objective', "multi-task"),
])
def test_bad_values_are_refused_at_their_key(tc, key, msg):
    with pytest.raises(ConfigError, match=msg) as e: check_config(config(**tc))
    assert e.value.key_path == key

def test_matching_without_the_cache_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"train_config.objective: feature_match .* the activation cache is off"):
        train(config(objective='feature_match'), tmp_path/'job', activation_cache=False)
    assert not (tmp_path/'job').exists()
