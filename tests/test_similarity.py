"""Representational similarity (issue 13): streamed measures equal the all-at-once ones, the grid's labels join a
sweep's plan, a network meets itself on the grid's diagonal, and stitch-similarity writes its table into the sweep's
folder."""
import math, subprocess, sys
from pathlib import Path
import pandas as pd
import pytest, timm, torch, yaml
from stitchbook.closed_form import lstsq, ridge, procrustes
from stitchbook.data import DEBIAN_FMNIST, TensorLoader
from stitchbook.errors import UserError
from stitchbook.formats import Format
from stitchbook.similarity import (MEASURES, Moments, Similarity, StitchView, fit_map, linear_cka, measure_grid,
                                   similarity_grid, zero_training_config)
from stitchbook.sweep import plan

needs_data = pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="needs Fashion-MNIST (./run.sh test installs it)")

def streamed(x, y, sizes, **kw):
    s, i = Similarity(**kw), 0
    for b in sizes: s.update(x[i:i + b], y[i:i + b]); i += b
    return s.result()

def at_once(x, y, rows):
    return {k: f(x, y, rows=rows) if k == 'rbf_cka' else f(x, y) for k, f in MEASURES.items()}

@pytest.mark.parametrize('kind', ['related', 'independent', 'rank deficient', 'wide', 'constant'])
def test_streamed_measures_equal_the_all_at_once_ones(kind):
    g = torch.Generator().manual_seed(1)
    x = torch.randn(900, 30, generator=g)
    y = {'related': torch.tanh(x[:, :20] @ torch.randn(20, 12, generator=g)) + 0.3 * torch.randn(900, 12, generator=g),
         'independent': torch.randn(900, 12, generator=g),
         'rank deficient': torch.cat([x[:, :4], x[:, :4] * 2, torch.full((900, 2), 3.)], 1) - 100,
         'wide': torch.randn(900, 700, generator=g) + x[:, :1],        # more features than a batch has rows
         'constant': torch.full((900, 5), 0.1)}[kind]
    got, want = streamed(x, y, (5, 250, 45, 600), rbf_rows=200), at_once(x, y, rows=200)   # the RBF subsample too
    assert all(math.isfinite(v) for v in got.values())
    pd.testing.assert_series_equal(pd.Series(got), pd.Series(want), atol=1e-6, rtol=0)
    if kind == 'constant': assert set(got.values()) == {0.0, 2.0}

@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_the_accumulators_run_where_their_inputs_are():
    g = torch.Generator().manual_seed(5)
    x = torch.randn(600, 20, generator=g)
    y = torch.tanh(x @ torch.randn(20, 8, generator=g))
    got = streamed(x.cuda(), y.cuda(), (100, 500), rbf_rows=200)
    pd.testing.assert_series_equal(pd.Series(got), pd.Series(at_once(x, y, rows=200)), atol=1e-6, rtol=0)
    m = Moments(unbiased=False).update(x.cuda(), y.cuda())
    (W, b), (W0, b0) = fit_map(m), lstsq(x.double(), y.double())
    assert torch.allclose(W, W0, atol=1e-6) and torch.allclose(b, b0, atol=1e-6)

def test_the_unbiased_estimator_has_no_bias_on_independent_features():
    g = torch.Generator().manual_seed(0)
    pairs = [torch.randn(2, 16, 300, generator=g) for _ in range(30)]
    biased = torch.tensor([linear_cka(a, b) for a, b in pairs])
    unbiased = torch.tensor([linear_cka(a, b, unbiased=True) for a, b in pairs])
    assert biased.mean() > 0.8 and abs(unbiased.mean()) < 0.05

def test_invariances():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(400, 16, generator=g, dtype=torch.float64)
    y = torch.relu(x @ torch.randn(16, 10, generator=g, dtype=torch.float64))
    Q = torch.linalg.qr(torch.randn(16, 16, generator=g, dtype=torch.float64)).Q
    perm = torch.randperm(16, generator=g)
    for name, f in MEASURES.items():
        base = f(x, y)
        if name != 'pwcca': assert math.isclose(f(7 * x @ Q, y), base, abs_tol=1e-9), name        # rotation, scaling
        assert math.isclose(f(0.2 * x[:, perm], y), base, abs_tol=1e-9), name                     # permutation
        assert math.isclose(f(x, x), 0 if name == 'procrustes_distance' else 1, abs_tol=1e-9), name

def test_the_fitted_map_is_the_solvers_on_all_rows():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1200, 9, generator=g, dtype=torch.float64)
    y = x @ torch.randn(9, 5, generator=g, dtype=torch.float64) - 1
    y = y + torch.randn(1200, 5, generator=g, dtype=torch.float64)
    for name, solver in (('lstsq', lstsq), ('ridge', ridge), ('procrustes', procrustes)):
        m = Moments(unbiased=False)
        for i in range(0, 1200, 400): m.update(x[i:i + 400], y[i:i + 400])
        (W, b), (W0, b0) = fit_map(m, name), solver(x, y)
        assert torch.allclose(W, W0, atol=1e-8) and torch.allclose(b, b0, atol=1e-8), name
    with pytest.raises(UserError, match='use one of lstsq'): fit_map(Moments().update(x, y), 'pinv')

def _shape(f:Format)->tuple:
    if f.layout in ('img', 'vector'): return (f.C, f.H, f.W) if f.layout == 'img' else (f.C,)
    return (f.L + (f.layout == 'bert'), f.C)

@pytest.mark.parametrize('src,dst,rows', [(Format('img', 8, 6, 6), Format('bert', 5, 3, 3), 9),
                                          (Format('bert', 8, 4, 4), Format('bert', 5, 2, 2), 5),
                                          (Format('token', 8, 4, 4), Format('img', 5, 4, 4), 16),
                                          (Format('img', 8, 2, 2), Format('vector', 5), 1)])
def test_the_stitch_view_reads_rows_and_puts_them_back(src, dst, rows):
    v = StitchView(src, dst, 'avg')
    x, y = torch.randn(3, *_shape(src)), torch.randn(3, *_shape(dst))
    assert v.x_rows(x).shape[0] == v.y_rows(y).shape[0] == 3 * rows
    back = v.to_top(v.y_rows(y), v.y_work(y).shape)
    assert back.shape == y.shape
    keep = slice(1, None) if dst.layout == 'bert' and src.layout != 'bert' else slice(None)   # a new class token
    assert torch.equal(back[:, keep], y[:, keep])

def _loaders(n_train=300, n_test=200):
    g = torch.Generator().manual_seed(4)
    n = n_train + n_test
    imgs = (torch.rand(n, 1, 28, 28, generator=g) * 255).to(torch.uint8)
    labels = torch.randint(0, 10, (n,), generator=g)
    make = lambda s: TensorLoader(imgs[s], labels[s], 64, (32, 32), [0.3], [0.35])
    return make(slice(0, n_train)), make(slice(n_train, None))

def test_a_network_meets_itself_on_the_diagonal_and_the_labels_join_a_sweep_plan(tmp_path):
    torch.manual_seed(0)
    net = timm.create_model('test_resnet', in_chans=1, num_classes=10).eval()
    train, test = _loaders()
    grid = similarity_grid(net, net, (train, test), measures=('linear_cka', 'svcca'), batch_size=100)
    assert list(grid.columns)[:3] == ['sweep', 'source', 'dest'] and grid.value.notna().all()
    diag = grid[grid.first_deleted_block == grid.last_deleted_block + 1]
    assert len(diag) == 5 * 4 and (diag[diag.measure != 'stitch_accuracy'].value - 1).abs().max() < 1e-6
    with torch.no_grad(): own = torch.cat([net(test.batch(0, b)[0]).argmax(1) for b in range(len(test))])
    own = own.eq(test.labels)
    assert (diag[diag.measure == 'stitch_accuracy'].value - own.float().mean().item()).abs().max() < 1e-6
    p = plan({'arch': 'test_resnet', 'model_args': {'in_chans': 1, 'num_classes': 10}, 'input_shape': [1, 32, 32],
              'stitchers': ['downsample_then_linear']}, tmp_path)
    cols = ['first_deleted_block', 'last_deleted_block', 'source_stage', 'dest_stage', 'num_downsamples']
    planned = p[p.role == 'stitch'][cols].astype({c: 'Int64' for c in cols[:2] + cols[-1:]})
    joined = planned.merge(grid[grid.measure == 'linear_cka'], on=cols, how='left')
    assert len(planned) == 10 and joined.value.notna().all()            # every planned gap has its grid row
    assert measure_grid(grid).shape == (5, 5)

def test_bad_input_is_refused_with_what_to_do():
    train, test = _loaders(100, 100)
    net = timm.create_model('test_resnet', in_chans=1, num_classes=10).eval()
    data = (train, test)
    with pytest.raises(UserError, match="Did you mean 'svcca'"): similarity_grid(net, net, data, measures=['svcaa'])
    with pytest.raises(UserError, match='TensorLoaders'): similarity_grid(net, net, [train])
    _, other = _loaders(100, 50)
    with pytest.raises(UserError, match='same test examples'): similarity_grid(net, net, data, dst_data=(train, other))
    with pytest.raises(UserError, match='Starts near here'):
        similarity_grid(net, net, data, nodes_dst=['layer3.0.conv2'])

def test_a_zero_training_job_trains_nothing():
    job = {'assembly': [], 'train_config': {'epochs': 5, 'val_fraction': 0.1, 'data_preprocessing': {'subset': 4000}}}
    z = zero_training_config(job, 'ridge', 256)
    assert z['train_config'] == {'epochs': 0, 'init': 'ridge', 'batch_size': 256, 'data_preprocessing': {'subset': 256}}
    assert job['train_config']['epochs'] == 5                                # a copy

SWEEP = {'arch': 'fmnist_resnet', 'project': 'sim', 'gaps': [{'blocks_to_drop': [2, 3], 'num_downsamples': 1}],
         'stitchers': ['downsample_then_linear', 'conv3x3_with_downsample'],
         'train_config': {'dataset': 'fashion-mnist', 'batch_size': 100, 'seed': 0,
                          'data_preprocessing': {'image_size': 32, 'subset': 400, 'test_subset': 200}}}

@needs_data
def test_stitch_similarity_writes_the_table_into_the_sweep_folder(tmp_path):
    cfg = tmp_path/'small.yml'
    cfg.write_text(yaml.safe_dump(SWEEP))
    script = tmp_path/'cli.py'           # what the console script does: a zero-argument call from a file's top level
    script.write_text("from stitchbook.cli import stitch_similarity\nstitch_similarity()\n")
    r = subprocess.run([sys.executable, str(script), '-c', str(cfg), '-o', str(tmp_path/'runs'), '--measures',
                        'linear_cka', '--no-pretrained', '--fit-examples', '200', '--examples', '100',
                        '--stitch-gaps-only'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    df = pd.read_parquet(tmp_path/'runs'/'sim'/'small'/'similarity.parquet')
    assert set(df.measure) == {'linear_cka', 'stitch_r2', 'stitch_accuracy', 'zero_training_accuracy',
                               'parent_accuracy'}
    zero = df[df.measure == 'zero_training_accuracy']
    assert zero.stitcher.tolist() == ['downsample_then_linear'] and zero.value.between(0, 1).all()
    assert (zero.source_node.item(), zero.dest_node.item()) == ('layer1', 'layer4') and set(df.sweep) == {'small'}
    scored = df[df.measure == 'stitch_accuracy']                         # the planned gap's pair only
    assert list(zip(scored.source_node, scored.dest_node)) == [('layer1', 'layer4')]
    assert (df.measure == 'linear_cka').sum() == 25                     # CKA of every pair
    bad = subprocess.run([sys.executable, str(script), '-c', str(cfg), '--measures', 'cka'], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "unknown measure 'cka'" in bad.stderr
