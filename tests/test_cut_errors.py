"The user errors of model loading and cutting: each names the problem and the fix, and fails before any work."
import os, subprocess, sys, time
from unittest import mock
import pytest, torch
from stitchbook import models
from stitchbook.models import load_model, PretrainedUnavailable
from stitchbook.cut import cut, node_names, TraceError
from stitchbook.errors import UserError

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
    with pytest.raises(TraceError, match=r"leaf_modules=\[TheModule\].*register_notrace_module"):
        node_names(net)
    assert node_names(net, leaf_modules=[Gate]) == ['x', '0', '1', '2']

def test_cli_prints_one_paragraph_without_traceback():
    r = subprocess.run([os.path.join(os.path.dirname(sys.executable), 'stitch-stages'), 'resnet51'],
                       capture_output=True, text=True, env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 2
    assert r.stderr.startswith("stitch-stages: error: unknown model 'resnet51'") and 'Traceback' not in r.stderr
