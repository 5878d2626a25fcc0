"The reference system's own job configs build as they are, with random weights, and give ImageNet logits."
import pytest, torch
from stitchbook.config import load_config
from stitchbook.assembly import model_from_config, summary
from shared import reference_configs

@pytest.mark.parametrize('path', reference_configs('tests'), ids=lambda p: getattr(p, 'name', 'none'))
def test_reference_job_config_builds(path):
    cfg = load_config(path)
    size = (cfg.get('train_config', {}).get('data_preprocessing') or {}).get('image_size', 224)
    model = model_from_config(cfg, pretrained=False).eval()
    assert model.input_shape == (3, size, size)
    with torch.no_grad(): out = model(torch.randn(2, 3, size, size))
    assert out.shape == (2, 1000)
    s = summary(model)
    frozen = [bool(f) for f in s.frozen]
    assert all(t == 0 for t, f in zip(s.trainable, frozen) if f)          # frozen parts have no trainable weights
    if any(frozen): assert s.trainable.sum() > 0                          # ... and the adapter has some
