"""`train_config.val_fraction` (a seeded validation split held out of the training subset, evaluated with the test set)
and `data_preprocessing.subset_seed` (the seed that draws the subsets and that split, so replicates share images)."""
import tempfile
from pathlib import Path
import pandas as pd, pytest, torch
from PIL import Image
from stitchbook.config import load_config, check_config, ConfigError
from stitchbook.data import make_data, DEBIAN_FMNIST
from stitchbook.job import train_job

ROOT = Path(__file__).parents[1]
needs_fmnist = pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="needs Fashion-MNIST (./run.sh test installs it)")
VAL = ['Overall/Val Loss', 'Overall/Val Accuracy']

def job(**tc):
    "The CNN -> CNN example config on a tiny Fashion-MNIST subset: one epoch of seconds."
    cfg = load_config(ROOT/'configs'/'fmnist-resnet-convnext.yml')
    pre = tc.pop('pre', {})
    cfg['train_config'].update({'batch_size': 50, 'epochs': 1, **tc})
    cfg['train_config']['data_preprocessing'].update({'subset': 200, 'test_subset': 50, **pre})
    return cfg

def run(cfg, folder=None, **kw):
    return train_job(cfg, folder or tempfile.mkdtemp(), pretrained=False, progress=kw.pop('progress', False), **kw)

def not_time(df): return df[[c for c in df.columns if not c.startswith('Time/')]]

def fmnist(seed, **tc):
    "Fashion-MNIST loaders of a tiny job (no model needed)."
    pre = tc.pop('pre', {})
    return make_data({'dataset': 'fashion-mnist', 'batch_size': 50, 'seed': seed, **tc,
                      'data_preprocessing': {'image_size': 32, 'subset': 400, 'test_subset': 100, **pre}})

def rows(images): return {bytes(x.numpy()) for x in images}

@needs_fmnist
def test_val_columns_are_written_at_every_evaluation_and_logged(capsys):
    table = run(job(val_fraction=0.2, max_batches=2, epochs=2, seed=1, pre={'subset_seed': 0}), progress=True)
    assert list(table.Epoch) == [0, 1, 2] and set(VAL) <= set(table.columns)
    assert table[VAL].notna().all().all() and table['Overall/Val Accuracy'].between(0, 1).all()
    assert (table['Overall/Val Loss'] > 0).all()
    out = capsys.readouterr().out
    assert 'validation: 40 of 200 training images held out (val_fraction 0.2, subset_seed 0)' in out
    assert 'for validation and' in out and 'val acc' in out           # the cache covers the validation split too
    replicate = run(job(val_fraction=0.2, max_batches=2, epochs=2, seed=2, pre={'subset_seed': 0}))
    assert not replicate['Overall/Train Loss'].equals(table['Overall/Train Loss'])   # only the training differs

@needs_fmnist
def test_validation_images_are_disjoint_from_training_and_fixed_by_subset_seed():
    a, b = (fmnist(seed, val_fraction=0.25, pre={'subset_seed': 0}) for seed in (1, 2))
    assert (a.train.num_examples, a.val.num_examples) == (300, 100)
    assert not rows(a.train.images) & rows(a.val.images)                # never trained on
    assert (a.val.shuffle, a.val.augment, a.val.max_batches) == (False, (), None)
    for split in ('train', 'val', 'test'):                              # another seed, the same images
        assert torch.equal(getattr(a, split).images, getattr(b, split).images)
    whole = fmnist(0)                                                   # train + val = the subset of subset_seed 0
    assert rows(a.train.images) | rows(a.val.images) == rows(whole.train.images)
    assert not torch.equal(a.train.order(0), b.train.order(0))          # the data order still follows seed

@needs_fmnist
def test_subset_seed_fixes_the_train_and_test_subsets_across_seeds():
    a, b = (fmnist(seed, pre={'subset_seed': 7}) for seed in (1, 2))
    assert torch.equal(a.train.images, b.train.images) and torch.equal(a.test.images, b.test.images)
    assert a.val is None and b.val is None
    c, d = fmnist(1), fmnist(2)                                         # without it, seed draws them
    assert not torch.equal(c.train.images, d.train.images)
    assert torch.equal(fmnist(7).train.images, a.train.images)          # subset_seed 7 draws what seed 7 draws

@needs_fmnist
def test_no_keys_no_change():
    plain = run(job(max_batches=2))
    assert list(plain.columns) == ['Epoch', 'Step', 'Overall/Train Loss', 'Overall/Train Accuracy', 'Overall/Test Loss',
                                   'Overall/Test Accuracy', 'LR', 'Time/Train', 'Time/Test', 'Time/Images per Second']
    same = run(job(max_batches=2, pre={'subset_seed': 0}))             # the default, spelled out
    pd.testing.assert_frame_equal(not_time(plain), not_time(same), check_exact=True)
    assert fmnist(0).val is None

@needs_fmnist
def test_resume_with_validation_is_exact_with_and_without_the_cache(tmp_path):
    cfg, tables = job(val_fraction=0.2, epochs=2, max_batches=3), {}
    for cache in (True, False):
        whole = run(cfg, tmp_path/f'whole-{cache}', save_checkpoints=True, activation_cache=cache)
        resumed = run(cfg, tmp_path/f'resumed-{cache}', activation_cache=cache,
                      resume_from=str(tmp_path/f'whole-{cache}'/'checkpoint-epoch-1.pt'))
        assert set(VAL) <= set(resumed.columns)
        pd.testing.assert_frame_equal(not_time(resumed), not_time(whole), check_exact=True)
        tables[cache] = whole
    pd.testing.assert_frame_equal(not_time(tables[True]), not_time(tables[False]), atol=1e-4, rtol=1e-4)

def _png_folder(n=60):
    d = Path(tempfile.mkdtemp())
    x = torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    for i in range(n):
        (d/f"c{i % 10}").mkdir(exist_ok=True)
        Image.fromarray(x[i].numpy()).save(d/f"c{i % 10}"/f"{i}.png")
    return d

@pytest.mark.parametrize('in_memory', [True, False])
def test_own_data_holds_out_validation_images_in_memory_and_lazily(in_memory, tmp_path):
    cfg = job(dataset={'folder': str(_png_folder()), 'val_fraction': 0.25}, val_fraction=0.2, batch_size=10,
              epochs=2, data_augmentation=['hflip'], pre={'in_memory': in_memory, 'mean': [0.5], 'std': [0.5]})
    data = make_data(cfg['train_config'], input_shape=(1, 32, 32))
    assert (type(data.val).__name__, data.train.num_examples, data.val.num_examples) == (
        'TensorLoader' if in_memory else 'SeededLoader', 36, 9)
    whole = run(cfg, tmp_path/'whole', save_checkpoints=True)
    assert whole['Overall/Val Accuracy'].between(0, 1).all()
    if in_memory: return                                               # resuming a TensorLoader is tested above
    resumed = run(cfg, tmp_path/'resumed', resume_from=str(tmp_path/'whole'/'checkpoint-epoch-1.pt'))
    pd.testing.assert_frame_equal(not_time(resumed), not_time(whole), check_exact=True)

def test_given_tensors_hold_out_validation_images():
    x = torch.randint(0, 256, (80, 1, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    y = torch.arange(80) % 10
    data = make_data({'batch_size': 16, 'val_fraction': 0.1}, data=((x[:60], y[:60]), (x[60:], y[60:])))
    assert (data.train.num_examples, data.val.num_examples, data.test.num_examples) == (54, 6, 20)
    assert not rows(data.train.images) & rows(data.val.images)
    assert rows(data.train.images) | rows(data.val.images) == rows(x[:60])

def test_multi_task_jobs_refuse_val_fraction():
    cfg = job(val_fraction=0.2)
    del cfg['train_config']['dataset']
    cfg['train_config']['tasks'] = [{'dataset': 'fashion-mnist'}]
    with pytest.raises(ConfigError, match=r"train_config.val_fraction: a multi-task job holds out no validation"):
        run(cfg)
    del cfg['train_config']['val_fraction']
    cfg['train_config']['tasks'] = [{'dataset': 'fashion-mnist', 'val_fraction': 0.1}]
    with pytest.raises(ConfigError, match=r"train_config.tasks\[0\].val_fraction: a multi-task job"):
        run(cfg)

@pytest.mark.parametrize('bad', [-1, 1.5, 'zero', True, None])
def test_bad_subset_seed_is_named(bad):
    with pytest.raises(ConfigError, match=r"train_config.data_preprocessing.subset_seed: must be an integer >= 0"):
        make_data({'batch_size': 4, 'data_preprocessing': {'subset_seed': bad}},
                  data=((torch.zeros(8, 1, 4, 4), torch.zeros(8).long()),) * 2)

@pytest.mark.parametrize('bad', [0, 1, 1.5, -0.1, 'half', True])
def test_bad_val_fraction_is_named(bad):
    with pytest.raises(ConfigError, match=r"train_config.val_fraction: must be a number between 0 and 1"):
        check_config(job(val_fraction=bad))
    with pytest.raises(ConfigError, match=r"train_config.val_fraction: must be a number between 0 and 1"):
        make_data({'batch_size': 4, 'val_fraction': bad}, data=((torch.zeros(8, 1, 4, 4), torch.zeros(8).long()),) * 2)

def test_a_val_fraction_that_leaves_nothing_to_train_on_is_named():
    with pytest.raises(ConfigError, match=r"train_config.val_fraction: 0.9 of 2 training example\(s\) leaves none"):
        make_data({'batch_size': 4, 'val_fraction': 0.9}, data=((torch.zeros(2, 1, 4, 4), torch.zeros(2).long()),) * 2)
