"""The fast path of the frozen parts (`stitchbook.speed`) computes what the plain path computes, on the reference's own
real-size configs (read in place from `../shared/reference/configs/tests/`, random weights at 224 px): the same
outputs and adapter gradients within float tolerance, and the model's weights and checkpoint keys unchanged."""
import os, shutil, subprocess, sys
from pathlib import Path
import pytest, torch
from torch import nn
from stitchbook.config import load_config
from stitchbook.assembly import model_from_config
from stitchbook.cache import split_prefix
from stitchbook.speed import fold_batchnorm, batchnorms, fast_parts, FrozenCopy
from shared import CONFIGS

ROOT = Path(__file__).resolve().parents[1]
RESNET18, RESNET_VIT = CONFIGS/'tests'/'stitch-resnet18.yml', CONFIGS/'tests'/'stitch-resnet-vit.yml'
needs_configs = pytest.mark.skipif(not RESNET18.is_file(), reason=f"no reference configs at {CONFIGS}")

def trained_stats(model:nn.Module, seed:int=0)->nn.Module:
    "Random BatchNorm statistics and affine weights of a trained network's size (the defaults fold trivially)."
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.modules.batchnorm._BatchNorm):
            c = m.num_features
            m.running_mean.copy_(torch.randn(c, generator=g)); m.running_var.copy_(torch.rand(c, generator=g) + 0.5)
            m.weight.data.copy_(torch.rand(c, generator=g) + 0.5); m.bias.data.copy_(torch.randn(c, generator=g))
    return model

def reference_model(path:Path)->nn.Module:
    "The reference config's stitched model, built by stitchbook with random weights, as a job trains it."
    torch.manual_seed(0)
    return trained_stats(model_from_config(load_config(path), pretrained=False)).train()

def snapshot(model:nn.Module)->dict: return {k: v.clone() for k, v in model.state_dict().items()}

def close(a, b, rtol=1e-4): return (a - b).abs().max().item() <= rtol * max(b.abs().max().item(), 1e-12)

class Perturbed(nn.Module):
    "`part` with its output moved by relative noise `eps`: how far float rounding alone can move what follows."
    def __init__(self, part, eps:float): super().__init__(); self.part, self.eps = part, eps
    def forward(self, x):
        h = self.part(x)
        return h + self.eps * h.abs().max() * torch.randn(h.shape, generator=torch.Generator().manual_seed(0))

def rel_errors(got:list, want:list)->list:
    "Largest error of each tensor of `got`, relative to the largest value of its tensor in `want`."
    return [(b - a).abs().max().item() / a.abs().max().item() for a, b in zip(want, got)]

def step(model, parts, x, y):
    "One training step's loss and adapter gradients through `(prefix, rest)`, without the update."
    model.train(); model.zero_grad()
    with torch.no_grad(): h = parts[0](x)
    loss = nn.functional.cross_entropy(parts[1](h), y)
    loss.backward()
    return loss.item(), [p.grad.clone() for p in model.parameters() if p.requires_grad]

@needs_configs
def test_fold_resnet18_reference_cut():
    "ResNet-18 to layer2 and from layer3: every BatchNorm folds, outputs and adapter gradients agree."
    model = reference_model(RESNET18).eval()
    prefix, rest = split_prefix(model)
    adapter, suffix = rest
    before = snapshot(model)
    fp, fs = fold_batchnorm(prefix), fold_batchnorm(suffix)
    assert (batchnorms(prefix), batchnorms(fp), batchnorms(suffix), batchnorms(fs)) == (10, 0, 10, 0)
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad(): h, fh = prefix(x), fp(x)
    assert close(fh, h)
    grads = []
    for s in (suffix, fs):
        adapter.zero_grad()
        out = s(adapter(h))
        out.logsumexp(1).sum().backward()
        grads.append((out.detach(), [p.grad.clone() for p in adapter.parameters()]))
    (out, g), (fout, fg) = grads
    assert close(fout, out) and all(close(b, a) for a, b in zip(g, fg))
    after = model.state_dict()
    assert after.keys() == before.keys() and all(torch.equal(v, after[k]) for k, v in before.items())

@needs_configs
def test_fold_changes_the_numbers_only_within_tolerance():
    "The check above can fail: folding with the wrong statistics gives other outputs."
    model = reference_model(RESNET18).eval()
    prefix, _ = split_prefix(model)
    fp = fold_batchnorm(prefix)
    trained_stats(prefix, seed=1)                          # the copy keeps the statistics it was made with
    x = torch.randn(2, 3, 224, 224)
    with torch.no_grad(): assert not close(fp(x), prefix(x))

@needs_configs
@pytest.mark.parametrize('path', [RESNET18, RESNET_VIT], ids=lambda p: p.name)
def test_fast_parts_train_step_matches(path):
    "A training step through the fast parts: same loss and adapter gradients; checkpoint keys and frozen weights kept."
    model = reference_model(path)
    prefix, rest = split_prefix(model)
    fast = fast_parts(prefix, rest)
    assert isinstance(fast[0][0], FrozenCopy) and fast[1][0] is rest[0] and isinstance(fast[1][1], FrozenCopy)
    assert fast[0][0].channels_last and fast[1][1].channels_last == (path == RESNET18)   # a ViT top stays as it is
    x, y = torch.randn(2, 3, 224, 224), torch.tensor([3, 7])
    (loss, g), (fast_loss, fg) = step(model, (prefix, rest), x, y), step(model, fast, x, y)
    _, noisy = step(model, (Perturbed(prefix, 1e-6), rest), x, y)    # float32 rounding through a network
    floor = [max(1e-4, e) for e in rel_errors(noisy, g)]     # a random ViT top and a batch of 2 amplify it ~1000x
    assert abs(loss - fast_loss) <= 1e-5 * abs(loss)
    assert all(e <= f for e, f in zip(rel_errors(fg, g), floor)), (rel_errors(fg, g), floor)
    before = snapshot(model)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    opt.step()                                             # the adapter learns; the frozen parts do not move
    after = model.state_dict()
    assert after.keys() == before.keys()
    changed = {k for k, v in before.items() if not torch.equal(v, after[k])}
    assert changed and all(k.startswith('steps.1.') for k in changed)
    assert not fast[1][1].training and not fast[0][0].body.training   # copies stay in eval mode

@needs_configs
@pytest.mark.slow
def test_bench_reference_config_runs():
    "The bench runs end to end on a reference config and prints both paths, the ratio and the breakdowns."
    r = subprocess.run([sys.executable, str(ROOT/'bench'/'reference_config.py'), '--batches', '2', '--batch-size', '4',
                        '--rounds', '1', '--configs', str(RESNET18)], capture_output=True, text=True, timeout=600,
                       env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 0, r.stderr[-3000:]
    lines = r.stdout.splitlines()
    assert any('stitch-resnet18.yml: fast' in l and 'ratio' in l for l in lines), r.stdout
    for path in ('fast', 'plain'):
        assert any(l.strip().startswith(path) and 'suffix bwd' in l and 'prefix' in l for l in lines), r.stdout

class Fixed(nn.Sequential):
    "A stitched model's fixed part: no gradients, statistics kept, eval mode always (what `speed.fixed` looks for)."
    frozen = freeze_stats = True
    def __init__(self, *layers):
        super().__init__(*layers)
        for p in self.parameters(): p.requires_grad_(False)
        trained_stats(self)
    def train(self, mode:bool=True): return super().train(False)

no_compiler = not (shutil.which('c++') or shutil.which('g++'))

@pytest.mark.skipif(no_compiler, reason="torch.compile on a CPU needs a C++ compiler")
def test_compiled_copies_train_like_the_plain_parts():
    "`compile=True` (the flag a GPU run turns on), here through CPU inductor: the loss and adapter gradients agree."
    torch.manual_seed(0)
    block = lambda i, o: nn.Sequential(nn.Conv2d(i, o, 3, padding=1), nn.BatchNorm2d(o), nn.ReLU())
    prefix = nn.Sequential(Fixed(*block(3, 8)))
    top = Fixed(*block(8, 8), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 5))
    rest = nn.Sequential(nn.Conv2d(8, 8, 1), top)                       # the adapter trains, the top is fixed
    model = nn.Sequential(prefix, rest)
    x, y = torch.randn(4, 3, 16, 16), torch.arange(4) % 5
    compiled = fast_parts(prefix, rest, compile=True)
    assert rest[0] is compiled[1][0] and isinstance(compiled[1][1], FrozenCopy)
    assert all(type(c.body).__name__ == 'OptimizedModule' for c in (compiled[0][0], compiled[1][1]))   # torch.compile
    (loss, g), (c_loss, cg) = step(model, (prefix, rest), x, y), step(model, compiled, x, y)
    assert abs(loss - c_loss) <= 1e-5 * abs(loss) and all(e <= 1e-4 for e in rel_errors(cg, g)), rel_errors(cg, g)
