"""Exactness of `stages` + `cut` across architectures: chaining the stage pieces reproduces the network.

Eval mode: the chained output equals the whole network's to 1e-5. Train mode: with the same RNG seed, the pieces
give the same output and leave every BatchNorm statistic as the whole network does. Networks that are not a chain
of single-tensor stages are listed in `REFUSED` and must be refused with a clear error."""
import copy
import pytest, timm, torch
from stitchbook.models import load_model
from stitchbook.cut import cut, TraceError
from stitchbook.stages import stages, chain, NotAChain

S64 = (3, 64, 64)
# (model spec, constructor kwargs, input shape): pretrained=False everywhere
TIMM = [
    ('resnet18', {}, S64), ('resnet26d', {}, S64), ('resnet50d', {}, S64), ('seresnext26d_32x4d', {}, S64),
    ('resnetv2_50', {}, S64),
    ('regnetx_002', {}, S64), ('regnety_002', {}, S64),
    ('efficientnet_b0', {}, S64), ('efficientnet_lite0', {}, S64), ('tf_efficientnetv2_b0', {}, S64),
    ('mobilenetv3_small_050', {}, S64), ('mobilenetv3_large_100', {}, S64), ('mobilenetv4_conv_small', {}, S64),
    ('convnext_atto', {}, S64), ('convnextv2_atto', {}, S64),
    ('vit_tiny_patch16_224', dict(img_size=64), S64), ('vit_small_patch16_224', dict(img_size=64), S64),
    ('deit_tiny_patch16_224', dict(img_size=64), S64),
    ('swin_tiny_patch4_window7_224', dict(img_size=64, window_size=4), S64),
    ('maxvit_nano_rw_256', dict(img_size=64), S64), ('coatnet_nano_rw_224', dict(img_size=64), S64),
    ('densenet121', {}, S64), ('dla34', {}, S64), ('ghostnet_100', {}, S64), ('rexnet_100', {}, S64),
    ('cspresnet50', {}, S64), ('repvgg_a0', {}, S64), ('edgenext_xx_small', {}, S64),
    ('poolformer_s12', {}, S64), ('pvt_v2_b0', {}, S64), ('hgnetv2_b0', {}, S64), ('fastvit_t8', {}, S64),
    ('dpn68', {}, S64), ('vgg11', {}, S64), ('hiera_tiny_224', dict(img_size=64), S64), ('mobilevit_xxs', {}, S64),
    ('nest_tiny', dict(img_size=64), S64), ('volo_d1_224', dict(img_size=64), S64), ('efficientvit_b0', {}, S64),
    ('eva02_tiny_patch14_224', dict(img_size=64), S64), ('cait_xxs24_224', dict(img_size=64), S64),
    ('focalnet_tiny_srf', {}, S64), ('davit_tiny', {}, S64), ('gcvit_xxtiny', dict(img_size=64), S64),
    ('test_resnet', {}, (3, 32, 32)), ('test_convnext', {}, (3, 32, 32)), ('test_efficientnet', {}, (3, 32, 32)),
    ('test_byobnet', {}, (3, 32, 32)), ('test_nfnet', {}, (3, 32, 32)), ('test_mambaout', {}, (3, 32, 32)),
    ('test_maxvit', dict(img_size=64), S64), ('test_vit', dict(img_size=32, patch_size=4), (3, 32, 32)),
    ('test_vit2', dict(img_size=32, patch_size=4), (3, 32, 32)),
]
# torchvision keeps its blocks deeper in the module tree than its top-level children
FALLBACK_DEPTH = {'vit_b_16': 3, 'swin_t': 2}
OTHER = [
    ('resnet18', dict(backend='torchvision'), S64),
    ('vit_b_16', dict(backend='torchvision', image_size=64), S64),
    ('swin_t', dict(backend='torchvision'), S64),
    ('toy_nets:small_cnn', dict(num_classes=7), (3, 32, 32)),
]
# Refused: not a chain of single-tensor stages, or a feature_info that names modules the network does not have
REFUSED = [
    ('xcit_nano_12_p16_224', dict(img_size=64), 'not a chain of stages', 'hands the token grid height and width on beside the tokens'),
    ('crossvit_tiny_240', dict(img_size=64), 'not a chain of stages', 'two token streams at two patch sizes'),
    ('tnt_s_patch16_224', dict(img_size=64), 'not a chain of stages', 'pixel and patch token streams'),
    ('coat_tiny', {}, 'not a chain of stages', 'serial blocks hand on tokens and a class token path'),
    ('twins_svt_small', {}, 'which the traced graph does not have', "feature_info names 'block.0'; the modules are 'blocks.0'"),
    ('mvitv2_tiny', {}, 'which the traced graph does not have', "feature_info names 'block.0'; the modules are 'stages.0'"),
]

def _id(p): return p[0] if not p[1].get('backend') else f"{p[0]}[{p[1]['backend']}]"

def _build(name, kw):
    torch.manual_seed(0)
    kw = dict(kw)
    return load_model(name, pretrained=False, **kw)

@pytest.mark.parametrize('spec', TIMM + OTHER, ids=_id)
def test_stage_chain_is_exact(spec):
    name, kw, shape = spec
    model = _build(name, kw).eval()
    st = stages(model, shape, depth=FALLBACK_DEPTH.get(name, 1))
    assert len(st) >= 3, st
    x = torch.randn(2, *shape)
    with torch.no_grad():
        whole = model(x)
        pieces = chain(cut(model, s.start, s.end) for s in st).eval()
        torch.testing.assert_close(pieces(x), whole, atol=1e-5, rtol=0)
    # train mode: same RNG stream, same outputs, same BatchNorm statistics
    a, b = copy.deepcopy(model).train(), copy.deepcopy(model).train()
    pieces = chain(cut(b, s.start, s.end) for s in st).train()
    with torch.no_grad():
        torch.manual_seed(1); out_a = a(x)
        torch.manual_seed(1); out_b = pieces(x)
    torch.testing.assert_close(out_b, out_a, atol=1e-5, rtol=1e-5)
    bufs_a, bufs_b = dict(a.named_buffers()), dict(b.named_buffers())
    assert bufs_a.keys() == bufs_b.keys()
    moved = [k for k in bufs_a if k.endswith('running_mean') and not torch.equal(bufs_a[k], model.get_buffer(k))]
    assert bool(moved) == any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())
    for k in bufs_a: torch.testing.assert_close(bufs_b[k], bufs_a[k], atol=1e-6, rtol=1e-5, msg=k)

@pytest.mark.parametrize('spec', REFUSED, ids=_id)
def test_non_chains_are_refused(spec):
    name, kw, message, why = spec
    with pytest.raises(NotAChain, match=message):
        stages(_build(name, kw), (3, 64, 64))

def test_coverage_of_families():
    families = {timm.models.get_arch_name(n).split('_')[0] for n, *_ in TIMM}
    assert len(TIMM) >= 30 and len(families) >= 12, (len(TIMM), families)
