"The user errors of model loading and cutting: each names the problem and the fix, and fails before any work."
import os, subprocess, sys, time
from unittest import mock
import pytest, torch
from stitchbook import models
from stitchbook.models import load_model, PretrainedUnavailable
from stitchbook.cut import cut, node_names, TraceError
from stitchbook.errors import UserError
from stitchbook.stitch import stitch

@pytest.fixture(scope='module')
def net(): return load_model('test_resnet', pretrained=False, num_classes=10)

def test_unknown_node_suggests_nearest_names(net):
    with pytest.raises(UserError, match=r"no node or module 'layr2'\. Nearest names: 'layer2'.*node_names\(model"):
        cut(net, 'layr2', None)
    with pytest.raises(UserError, match=r"Nearest names: 'layer4'"):
        cut(net, None, 'layer_4')

def test_cut_across_a_skip_connection_names_the_edges(net):
    with pytest.raises(UserError) as e: cut(net, 'layer2.0.conv2', 'layer3')
    msg = str(e.value)
    assert 'crosses 2 live connections' in msg
    assert 'layer2.0.aa -> layer2.0.conv2' in msg          # the main path
    assert 'layer1.0.act2 -> layer2.0.downsample.0' in msg  # the skip path it would cut
    assert "Starts near here that work:" in msg and "'layer3'" in msg

def test_pretrained_offline_fails_fast_without_downloading():
    with mock.patch.dict(os.environ, {'HF_HUB_OFFLINE': '1'}), \
         mock.patch('timm.create_model', side_effect=AssertionError('must not try to download')):
        with pytest.raises(PretrainedUnavailable, match=r"'resnet50.a1_in1k' \(timm\).*offline mode is on.*pretrained=False.*--no-pretrained"):
            load_model('resnet50.a1_in1k')

def test_pretrained_without_network_fails_fast():
    "No offline flag, but the hub's host does not answer: one connection attempt, then the same advice."
    models._host_reachable.cache_clear()
    env = {k: v for k, v in os.environ.items() if k not in ('HF_HUB_OFFLINE', 'STITCHBOOK_OFFLINE')}
    with mock.patch.dict(os.environ, env, clear=True), \
         mock.patch.object(models, '_host_reachable', return_value=False), \
         mock.patch('torchvision.models.get_model', side_effect=AssertionError('must not try to download')):
        with pytest.raises(PretrainedUnavailable, match=r"download.pytorch.org cannot be reached"):
            load_model('resnet18', backend='torchvision')

def test_untraceable_module_points_to_leaf_modules():
    class Gate(torch.nn.Module):
        def forward(self, x): return x if x.sum() > 0 else -x
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), Gate(), torch.nn.Conv2d(4, 4, 3))
    with pytest.raises(TraceError, match=r"module '1' \(Gate\) runs Python.*`def forward.*x\.sum\(\) > 0.*"
                                         r"leaf_modules=\[Gate\].*register_notrace_module"):
        node_names(net)
    assert node_names(net, leaf_modules=[Gate]) == ['x', '0', '1', '2']

class Digits(torch.nn.Module):
    "A classifier whose own forward checks its input, as published digit nets do."
    def __init__(self, check):
        super().__init__()
        self.check = check
        self.features = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1), torch.nn.BatchNorm2d(4),
                                            torch.nn.ReLU(), torch.nn.MaxPool2d(2))
        self.classifier = torch.nn.Linear(4 * 14 * 14, 10)
    def forward(self, x):
        if self.check == 'shape' and x.shape[-2:] != (28, 28): raise ValueError('28x28 images only')
        if self.check == 'value' and x.sum() > 0: x = x - 1
        return self.classifier(self.features(x).flatten(1))

@pytest.mark.parametrize('check, line', [('shape', 'x.shape[-2:] != (28, 28)'), ('value', 'x.sum() > 0')])
def test_top_level_branch_says_leaf_modules_cannot_help(check, line):
    "Issue 10: the branch is in the network's own forward, so the advice is a wrapper, not leaf_modules."
    net = Digits(check).eval()
    with pytest.raises(TraceError) as e: cut(net, None, 'features')
    msg = str(e.value)
    assert 'Digits.forward runs Python that depends on its input outside any submodule' in msg and line in msg
    assert 'so leaf_modules cannot help' in msg and 'leaf_modules=[' not in msg
    assert 'nn.Sequential(net.features, net.classifier), plus nn.Flatten()' in msg and 'autowrap_functions=[fn]' in msg
    wrapped = torch.nn.Sequential(net.features, torch.nn.Flatten(), net.classifier).eval()
    x = -torch.rand(3, 1, 28, 28)     # 28 px and a negative sum: the branches the wrapper drops are not taken
    with torch.no_grad(): assert torch.equal(cut(wrapped, '1', None)(cut(wrapped, None, '0')(x)), net(x))

def check_size(x):
    if x.shape[-1] != 28: raise ValueError('28 px only')
    return x

def _check_size(x):
    if x.shape[-1] != 28: raise ValueError('28 px only')
    return x

class Checked(torch.nn.Module):
    def __init__(self):
        super().__init__(); self.conv = torch.nn.Conv2d(1, 4, 3)
    def forward(self, x): return self.conv(check_size(x))

class PrivatelyChecked(Checked):
    def forward(self, x): return self.conv(_check_size(x))

@pytest.mark.parametrize('net, name', [(Checked, 'check_size'), (PrivatelyChecked, '_check_size')])
def test_function_in_forward_is_named_for_autowrap(net, name):
    with pytest.raises(TraceError) as e: node_names(net())
    msg = str(e.value)
    assert f'{net.__name__}.forward runs Python' in msg and 'so leaf_modules cannot help' in msg
    assert "`if x.shape[-1] != 28: raise ValueError('28 px only')`" in msg
    assert f'Or keep {name} as one call with autowrap_functions=[{name}]' in msg
    assert ('without the leading _' in msg) == name.startswith('_')   # torch.fx autowraps only public names
    assert node_names(Checked(), autowrap_functions=[check_size]) == ['x', 'check_size', 'conv']

NAMES = {'resnet18': ('ResNet', 'layer2', 'layr3', 'layer3'),      # class, a good cut, a misspelt one, the nearest
         'toy_nets:small_cnn': ('SmallCNN', 'stage1', 'stag2', 'stage2')}

@pytest.mark.parametrize('net, backend', [('resnet18', None), ('resnet18', 'torchvision'),
                                          ('toy_nets:small_cnn', None)])
@pytest.mark.parametrize('side', ['src_cut', 'dst_cut'])
def test_stitch_misspelt_cut_names_the_argument_and_nearest(net, backend, side):
    cls, good, bad, near = NAMES[net]
    src_cut, dst_cut = (bad, near) if side == 'src_cut' else (good, bad)
    with pytest.raises(UserError) as e: stitch(net, src_cut, net, dst_cut, pretrained=False, backend=backend)
    assert str(e.value).startswith(f"{side}='{bad}': {cls} has no node or module '{bad}'. Nearest names: '{near}'")

DIGITS = """
import torch
def digits(pretrained=False):
    return torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                               torch.nn.Flatten(), torch.nn.Linear(8 * 14 * 14, 10))
"""

@pytest.mark.parametrize('input_shape, ends', [((1, 28, 28), "'0', '1', '2', '3'"), (None, 'none (see node_names)')])
@pytest.mark.parametrize('side', ['src_cut', 'dst_cut'])
def test_stitch_misspelt_cut_on_a_fixed_size_network(tmp_path, monkeypatch, input_shape, ends, side):
    "Issue 10: the stage-boundary hint ran at 224 px, and the Linear's shape error hid the misspelt name."
    (tmp_path / 'user_digits.py').write_text(DIGITS)
    monkeypatch.syspath_prepend(str(tmp_path))
    src_cut, dst_cut = ('22', '3') if side == 'src_cut' else ('2', '3x')
    with pytest.raises(UserError) as e:
        stitch('user_digits:digits', src_cut, 'user_digits:digits', dst_cut, pretrained=False, input_shape=input_shape)
    bad = src_cut if side == 'src_cut' else dst_cut
    assert str(e.value).startswith(f"{side}='{bad}': Sequential has no node or module '{bad}'. Nearest names: ")
    assert str(e.value).endswith(f"Stage boundaries of Sequential: {ends}.")

def test_cli_prints_one_paragraph_without_traceback():
    r = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'stitch-stages'), 'resnet51'],
                       capture_output=True, text=True, env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 2
    assert r.stderr.startswith("stitch-stages: error: unknown model 'resnet51'") and 'Traceback' not in r.stderr
