"`stitch()` end to end: the round trip through YAML, every stitcher, and the call from the issue on full-size names."
import pytest, torch, yaml
from stitchbook.config import load_config
from stitchbook.assembly import model_from_config
from stitchbook.stitch import stitch
from stitchbook.stitchers import STITCHERS

CNN = dict(in_chans=1, num_classes=10)
VIT = dict(img_size=32, patch_size=4, in_chans=1, num_classes=10)
PAIRS = {  # (src, src_cut, dst, dst_cut, src_args, dst_args)
    'cnn-cnn': ('test_resnet', 'layer1', 'test_resnet', 'layer4', CNN, CNN),
    'cnn-vit': ('test_resnet', 'layer2', 'test_vit', 'blocks.3', CNN, VIT),
    'vit-cnn': ('test_vit', 'blocks.2', 'test_resnet', 'layer3', VIT, CNN),
    'vit-vit': ('test_vit', 'blocks.1', 'test_vit', 'blocks.4', VIT, VIT),
}

def _stitch(pair, adapter, **kw):
    src, sc, dst, dc, sa, da = PAIRS[pair]
    return stitch(src, sc, dst, dc, adapter, pretrained=False, src_args=sa, dst_args=da, input_shape=(1, 32, 32), **kw)

@pytest.mark.parametrize('pair,adapter', [('cnn-cnn', 'bottleneck_with_downsample'), ('cnn-vit', 'linear'), ('vit-cnn', 'block'), ('vit-vit', 'block')])
def test_round_trip_through_yaml(pair, adapter, tmp_path):
    m = _stitch(pair, adapter).eval()
    (tmp_path/'job.yml').write_text(yaml.safe_dump(m.config, sort_keys=False))
    again = model_from_config(load_config(tmp_path/'job.yml'), (1, 32, 32), pretrained=False).eval()
    again.load_state_dict(m.state_dict())
    x = torch.randn(3, 1, 32, 32)
    with torch.no_grad(): torch.testing.assert_close(again(x), m(x), rtol=0, atol=0)
    assert [s.kind for s in again.steps] == [s.kind for s in m.steps]

@pytest.mark.parametrize('pair', ['cnn-cnn', 'vit-vit', 'cnn-vit'])
def test_every_applicable_stitcher_builds_and_trains_only_the_adapter(pair):
    built = 0
    for name in STITCHERS:
        try: m = _stitch(pair, name)
        except Exception as e:
            assert 'does not apply' in str(e), f"{name}: {e}"
            continue
        built += 1
        with torch.no_grad(): assert m.eval()(torch.randn(2, 1, 32, 32)).shape == (2, 10)
        trainable = [any(p.requires_grad for p in s.parameters()) for s in m.steps]
        if name == 'finetune': assert all(trainable)
        else: assert trainable[0] is False and trainable[-1] is False and all(trainable[1:-1]), name
    assert built >= 4

def test_the_call_from_the_issue_on_full_size_networks():
    "resnet50 layer2 (512 ch, 28x28 at 224 px) into ViT-S blocks.6 (384-d tokens on 14x14): one halving, so resize then adapt."
    m = stitch(src='resnet50.a1_in1k', src_cut='layer2', dst='vit_small_patch16_224', dst_cut='blocks.6',
               adapter='bottleneck', pretrained=False)
    assert m.stitch_info['num_downsamples'] == 1 and m.stitch_info['stitcher'] == 'downsample_then_bottleneck'
    with torch.no_grad(): assert m.eval()(torch.randn(2, 3, 224, 224)).shape == (2, 1000)

def test_lstsq_init_beats_random_on_a_linear_adapter():
    images = torch.randn(32, 1, 32, 32)
    def loss(init):
        torch.manual_seed(0)
        m = _stitch('cnn-cnn', 'linear', init=init, init_batch=images).eval()
        with torch.no_grad():
            from stitchbook.stitch import _targets
            h = images
            for step in m.steps[:-1]: h = step(h)          # the source, then the adapter (series)
            return (h - _targets(m, images)).pow(2).mean().item()
    assert loss('lstsq') < 0.5 * loss(None)
