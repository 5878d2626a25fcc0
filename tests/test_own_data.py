"""Issue 10's acceptance, tried as a new user would: two small CNNs of the user's own (tests/digit_nets.py), trained
here on an MNIST-like set (Fashion-MNIST), saved, and loaded through 'pkg.mod:factory'; the data written as a folder of
PNGs, an .npz, a Hugging Face copy saved to disk, and a Dataset factory. Only the public API and the CLI are used."""
import json, os, subprocess, sys
from pathlib import Path
import numpy as np
import pandas as pd
import pytest, torch, yaml
from PIL import Image
from torch.nn import functional as F

from stitchbook.data import load_fashion_mnist, make_data
from stitchbook.models import load_model
from stitchbook.stages import stages
from stitchbook.cut import cut
from stitchbook.stitch import stitch

TESTS = Path(__file__).parent
N_TRAIN, N_TEST, CLASSES = 4000, 1000, [str(c) for c in range(10)]
GAPS = [('plain_net', 'layer1', 'res_net', 'stage2'), ('res_net', 'stage1', 'plain_net', 'layer2')]

def _subset(x, y, n, seed):
    keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed))[:n].sort().values
    return x[keep, 0].numpy(), y[keep].numpy()

def _train(net, x, y, mean, std, epochs=6):
    torch.manual_seed(0)
    opt = torch.optim.Adam(net.parameters(), 3e-3)
    xs = (torch.from_numpy(x)[:, None].float() / 255 - mean) / std
    for _ in range(epochs):
        net.train()
        for i in torch.randperm(len(xs), generator=torch.Generator().manual_seed(1)).split(64):
            opt.zero_grad(); F.cross_entropy(net(xs[i]), torch.from_numpy(y)[i]).backward(); opt.step()
    return net.eval()

def _accuracy(net, x, y, mean, std):
    with torch.no_grad(): pred = net((torch.from_numpy(x)[:, None].float() / 255 - mean) / std).argmax(1)
    return (pred == torch.from_numpy(y)).float().mean().item()

def _write_pngs(root, x, y):
    for i, (img, label) in enumerate(zip(x, y)):
        (root/CLASSES[label]).mkdir(parents=True, exist_ok=True)
        Image.fromarray(img).save(root/CLASSES[label]/f"{i:05d}.png")

@pytest.fixture(scope='module')
def world(tmp_path_factory):
    "Data in every form and two trained parents, as a user would have them."
    root = tmp_path_factory.mktemp('own')
    fm = load_fashion_mnist()
    (x_tr, y_tr), (x_te, y_te) = _subset(*fm['train'], N_TRAIN, 0), _subset(*fm['test'], N_TEST, 1)
    np.savez(root/'digits.npz', x_train=x_tr, y_train=y_tr, x_test=x_te, y_test=y_te)
    _write_pngs(root/'pngs'/'train', x_tr, y_tr); _write_pngs(root/'pngs'/'val', x_te, y_te)
    mean, std = float(x_tr.mean() / 255), float(x_tr.std() / 255)
    (root/'weights').mkdir()
    os.environ['DIGIT_NETS_DIR'] = str(root/'weights')
    sys.path.insert(0, str(TESTS))
    import digit_nets
    acc = {}
    for name in ('plain_net', 'res_net'):
        net = _train(getattr(digit_nets, name)(pretrained=False), x_tr, y_tr, mean, std)
        acc[name] = _accuracy(net, x_te, y_te, mean, std)
        torch.save({'model': net.state_dict(), 'mean': [mean], 'std': [std], 'accuracy': acc[name]}, root/'weights'/f"{name}.pt")
    env = {**os.environ, 'PYTHONPATH': os.pathsep.join([str(TESTS), os.environ.get('PYTHONPATH', '')])}
    return dict(root=root, acc=acc, mean=mean, std=std, env=env, x_te=x_te, y_te=y_te)

def stitch_train(world, cfg:dict, name:str, *flags, cwd=None):
    "Write `cfg` as YAML and run `stitch-train` on it in a fresh process: (result, job folder)."
    path = world['root']/f"{name}.yml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    out = world['root']/'runs'/name
    r = subprocess.run([str(Path(sys.executable).parent/'stitch-train'), '-c', str(path), '-o', str(out), *flags],
                       capture_output=True, text=True, env=world['env'], cwd=cwd or world['root'], timeout=600)
    return r, out

def _stitched_config(world, src, src_cut, dst, dst_cut, dataset, epochs=2):
    "The config `stitch()` writes, with a training section: what a user saves and runs with stitch-train."
    model = stitch(f"digit_nets:{src}", src_cut, f"digit_nets:{dst}", dst_cut, adapter='linear')
    cfg = json.loads(json.dumps(model.config))
    cfg['train_config'] = {'dataset': dataset, 'epochs': epochs, 'batch_size': 64, 'seed': 0, 'init': 'lstsq',
                           'optimizer': 'AdamW', 'optimizer_args': {'lr': 3e-3}}
    return cfg

def _final_accuracy(out): return pd.read_parquet(out/'result-0.parquet')['Overall/Test Accuracy'].iloc[-1].item()

def test_parents_cut_and_stitch_through_the_public_api(world):
    "List stages, cut exactly, stitch both ways with a closed-form init: all with the user's own factories."
    x = torch.from_numpy(world['x_te'][:512])[:, None].float() / 255
    x, y_true = (x - world['mean']) / world['std'], torch.from_numpy(world['y_te'][:512])
    for name in ('plain_net', 'res_net'):
        net = load_model(f"digit_nets:{name}").eval()
        assert net.weights_from == {'source': 'factory', 'factory': f"digit_nets:{name}", 'pretrained': True}
        pieces = [cut(net, s.start, s.end).eval() for s in stages(net)]
        y = x
        for p in pieces: y = p(y)
        assert torch.equal(y, net(x))
    for src, src_cut, dst, dst_cut in GAPS:
        fitted = stitch(f"digit_nets:{src}", src_cut, f"digit_nets:{dst}", dst_cut, init='lstsq', init_batch=x[:256])
        plain = stitch(f"digit_nets:{src}", src_cut, f"digit_nets:{dst}", dst_cut)
        with torch.no_grad(): acc, base = ((m.eval()(x[256:]).argmax(1) == y_true[256:]).float().mean().item() for m in (fitted, plain))
        assert acc > max(base, 0.15), f"lstsq init {src}->{dst} at 0 epochs: {acc}, random adapter {base}"
        model = fitted
        assert model.config['input_shape'] == [1, 28, 28]

def test_parents_re_measured_through_stitchbook(world):
    "A parent evaluated by stitch-train on the PNG folder scores exactly what it scored when it was saved."
    for name in ('plain_net', 'res_net'):
        cfg = {'model': {'Net': {'model_name': f"digit_nets:{name}"}},
               'train_config': {'dataset': {'folder': str(world['root']/'pngs')}, 'batch_size': 250}}
        r, out = stitch_train(world, cfg, f"parent-{name}", '--test-only')
        assert r.returncode == 0, r.stderr
        acc = pd.read_parquet(out/'test-0.parquet')['Overall/Test Accuracy'].item()
        assert abs(acc - world['acc'][name]) <= 1 / N_TEST, (name, acc, world['acc'][name])

@pytest.mark.parametrize('form', ['folder', 'arrays'])
def test_stitch_train_on_own_data(world, form):
    "stitch-train on the PNG folder and the .npz: the stitch reaches 95% of the destination parent's accuracy."
    dataset = {'folder': str(world['root']/'pngs')} if form == 'folder' else {'arrays': str(world['root']/'digits.npz')}
    for src, src_cut, dst, dst_cut in GAPS:
        r, out = stitch_train(world, _stitched_config(world, src, src_cut, dst, dst_cut, dataset), f"{form}-{src}")
        assert r.returncode == 0, r.stderr
        assert _final_accuracy(out) >= 0.95 * world['acc'][dst], (src, dst, _final_accuracy(out), world['acc'][dst])
        for i in (0, 2): assert f"weights of assembly[{i}]: source factory, factory digit_nets:" in r.stdout, r.stdout
        assert "mean [" in r.stdout and "from the source model's data config (digit_nets:" in r.stdout
        info = json.loads((out/'model.json').read_text())
        assert [w['source'] for w in info['weights']] == ['factory', 'factory']
        assert info['preprocessing']['image_size'] == [28, 28] and info['input_shape'] == [1, 28, 28]

def test_stitch_train_on_hf_and_factory_data(world):
    "The same stitch on a Hugging Face copy saved to disk, and on a Dataset factory."
    import datasets
    z = np.load(world['root']/'digits.npz')
    feats = datasets.Features({'img': datasets.Image(), 'label': datasets.ClassLabel(names=CLASSES)})
    split = lambda x, y: datasets.Dataset.from_dict({'img': [Image.fromarray(i) for i in x], 'label': y.tolist()}, features=feats)
    datasets.DatasetDict(train=split(z['x_train'], z['y_train']), test=split(z['x_test'], z['y_test'])).save_to_disk(
        str(world['root']/'hf_digits'))
    src, src_cut, dst, dst_cut = GAPS[0]
    for name, dataset in (('hf', {'hf': str(world['root']/'hf_digits'), 'image': 'img', 'label': 'label'}),
                          ('factory', {'factory': 'digit_nets:digit_datasets', 'args': {'path': str(world['root']/'digits.npz')}})):
        r, out = stitch_train(world, _stitched_config(world, src, src_cut, dst, dst_cut, dataset), name)
        assert r.returncode == 0, r.stderr
        assert _final_accuracy(out) >= 0.95 * world['acc'][dst], (name, _final_accuracy(out), world['acc'][dst])

def _bad_data(root):
    "Files a careless user might point at."
    z = dict(np.load(root/'digits.npz'))
    loose = root/'bad'/'loose'; loose.mkdir(parents=True, exist_ok=True)
    Image.fromarray(z['x_train'][0]).save(loose/'0.png')
    np.savez(root/'bad'/'no_y_test.npz', **{k: v for k, v in z.items() if k != 'y_test'})
    np.savez(root/'bad'/'label_12.npz', **{**z, 'y_test': np.where(np.arange(len(z['y_test'])) == 3, 12, z['y_test'])})
    np.savez(root/'bad'/'rgb.npz', **{**z, 'x_train': np.repeat(z['x_train'][..., None], 3, -1),
                                      'x_test': np.repeat(z['x_test'][..., None], 3, -1)})

BAD = [  # (case, dataset or None, change to the config, key named, words in the message)
    ('folder without class folders', {'folder': 'bad/loose'}, {}, 'train_config.dataset.folder', 'has no class folders'),
    ('npz missing y_test', {'arrays': 'bad/no_y_test.npz'}, {}, 'train_config.dataset.arrays', 'has no y_test'),
    ('labels out of range', {'arrays': 'bad/label_12.npz', 'num_classes': 10}, {}, 'train_config.dataset',
     'labels out of range: y_test holds 12, but there are 10 classes'),
    ('more classes than the model predicts', {'arrays': 'bad/label_12.npz'}, {}, 'train_config.dataset',
     'the data has 13 classes but the model predicts 10'),
    ('mismatched channels', {'arrays': 'bad/rgb.npz'}, {}, 'train_config.data_preprocessing.channels',
     'the data has 3 channel(s) but the model takes 1'),
    ('mean/std of the wrong length', {'arrays': 'digits.npz'}, {'data_preprocessing': {'mean': [.5, .5, .5], 'std': [.5, .5, .5]}},
     'train_config.data_preprocessing.mean', 'has 3 value(s) but the model takes 1 channel(s)'),
    ('factory returning one dataset', {'factory': 'digit_nets:one_dataset', 'args': {'path': 'digits.npz'}}, {},
     'train_config.dataset.factory', 'returned one Dataset; a dataset factory returns (train, test)'),
    ('frozen part with random weights', {'arrays': 'digits.npz'}, 'random', 'assembly[0].Subnet.pretrained',
     'frozen but its weights are random'),
]

@pytest.mark.parametrize('case,dataset,change,key,words', BAD, ids=[b[0] for b in BAD])
def test_bad_own_input_is_one_clear_paragraph(world, case, dataset, change, key, words):
    "Each mistake: exit 2, one paragraph naming the key, no traceback, and nothing written."
    if not (world['root']/'bad').exists(): _bad_data(world['root'])
    cfg = _stitched_config(world, *GAPS[0], dataset)
    if change == 'random':
        cfg['assembly'][0]['Subnet'].pop('pretrained'); cfg['assembly'][0]['Subnet']['model_name'] = 'test_resnet'
        cfg['assembly'][0]['Subnet']['model_args'] = {'in_chans': 1}
    else: cfg['train_config'].update(change)
    before = sorted(p for p in world['root'].rglob('*') if 'runs' not in p.parts)
    r, out = stitch_train(world, cfg, f"bad-{case.replace(' ', '_').replace('/', '_')}")
    assert r.returncode == 2, (r.returncode, r.stderr[-2000:])
    assert 'Traceback' not in r.stderr and r.stderr.strip().count('\n') == 0, r.stderr
    assert key in r.stderr and words in r.stderr, r.stderr
    assert not out.exists()
    after = sorted(p for p in world['root'].rglob('*') if 'runs' not in p.parts)
    assert set(after) - set(before) <= {world['root']/f"bad-{case.replace(' ', '_').replace('/', '_')}.yml"}
