"The zoo: reproducible training, a validated manifest, corrupted weights caught, and zoo names wherever timm names go."
import json, pytest, torch
from stitchbook import zoo
from stitchbook.zoo import ZooSpec, ensure_zoo, read_manifest, check_entry
from stitchbook.errors import UserError
from stitchbook.data import DEBIAN_FMNIST

pytestmark = pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="needs Fashion-MNIST (./run.sh test installs it)")
TINY = {'tiny_resnet': ZooSpec('tiny_resnet', 'test_resnet', epochs=2, batch_size=128, subset=4000),
        'tiny_vit': ZooSpec('tiny_vit', 'test_vit', dict(img_size=32, patch_size=8), epochs=1, subset=3000)}

@pytest.fixture
def tiny_zoo(tmp_path, monkeypatch):
    "The zoo swapped for two tiny recipes, kept in a temporary data folder that reads Fashion-MNIST from Debian."
    monkeypatch.setattr(zoo, 'ZOO', TINY)
    monkeypatch.setenv('STITCHBOOK_DATA', str(tmp_path))
    return tmp_path/'zoo'

def test_same_seed_same_weights_and_accuracy(tiny_zoo):
    first, = ensure_zoo(['tiny_resnet'], progress=False)
    again, = ensure_zoo(['tiny_resnet'], force=True, progress=False)
    assert (again['sha256'], again['accuracy']) == (first['sha256'], first['accuracy'])
    assert first['accuracy'] > 0.6                   # it learned something from 4000 images in two epochs

def test_corrupted_weights_are_caught_and_retrained(tiny_zoo):
    entry, = ensure_zoo(['tiny_resnet'], progress=False)
    path = tiny_zoo/entry['file']
    data = bytearray(path.read_bytes()); data[300] ^= 0xFF; path.write_bytes(bytes(data))
    assert 'does not match its SHA-256' in check_entry(read_manifest(tiny_zoo)[0], TINY['tiny_resnet'], tiny_zoo)
    fixed, = ensure_zoo(['tiny_resnet'], progress=False)
    assert fixed['sha256'] == entry['sha256'] and path.read_bytes() != bytes(data)

def test_manifest_is_validated(tiny_zoo):
    ensure_zoo(['tiny_resnet'], progress=False)
    m = json.loads((tiny_zoo/'manifest.json').read_text())
    assert set(zoo.ENTRY_KEYS) <= set(m[0]) and m[0]['file'] == 'tiny_resnet.pt'
    m[0]['accuracy'] = 'high'; (tiny_zoo/'manifest.json').write_text(json.dumps(m))
    with pytest.raises(UserError, match=r"entry 0 has missing or mistyped keys \['accuracy'\]"): read_manifest(tiny_zoo)
    (tiny_zoo/'manifest.json').write_text('{not json')
    with pytest.raises(UserError, match="not valid JSON"): read_manifest(tiny_zoo)

def test_zoo_names_work_in_cut_stages_configs_and_stitch(tiny_zoo):
    from stitchbook.cut import cut
    from stitchbook.stages import stages
    from stitchbook.assembly import model_from_config
    from stitchbook.stitch import stitch
    st = stages('tiny_resnet')                                          # stages of an untrained architecture
    assert [s.name for s in st][-1] == 'head' and st[2].format.H == 4  # 32 px input, known from the zoo
    net = zoo.load_zoo_model('tiny_resnet')                             # trains it, then loads the weights
    assert hasattr(net, 'zoo_accuracy')
    x = torch.randn(2, 1, 32, 32)
    with torch.no_grad(): assert torch.equal(cut('tiny_resnet', 'layer3', None)(cut('tiny_resnet', None, 'layer2')(x)), net(x))
    m = model_from_config({'assembly': [{'Subnet': {'backend': 'zoo', 'model_name': 'tiny_resnet', 'block_output': 'layer2', 'frozen': True}},
                                        {'SimpleAdapter': {'num_conv': 1, 'in_channels': 48, 'out_channels': 64}},
                                        {'Subnet': {'backend': 'zoo', 'model_name': 'tiny_vit', 'block_input': 'blocks.3',
                                                    'in_format': ['bert', [64, 16]], 'out_format': 'vector', 'frozen': True}}]})
    assert m.input_shape == (1, 32, 32)
    with torch.no_grad(): assert m.eval()(x).shape == (2, 10)
    s = stitch('tiny_resnet', 'layer2', 'tiny_vit', 'blocks.3', 'linear', init='lstsq', init_batch=torch.randn(16, 1, 32, 32))
    with torch.no_grad(): assert s.eval()(x).shape == (2, 10)
