"The embedded data set read from the Debian package, and the data errors users meet."
import pytest, torch
from pathlib import Path
from stitchbook.data import load_fashion_mnist, find_fashion_mnist, make_data, DEBIAN_FMNIST
from stitchbook.config import ConfigError
from stitchbook.errors import UserError

needs_debian = pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="apt-get install dataset-fashion-mnist (./run.sh test does)")

@needs_debian
def test_fashion_mnist_comes_from_the_debian_package(tmp_path, monkeypatch):
    monkeypatch.setenv('STITCHBOOK_DATA', str(tmp_path))                   # an empty default data folder: Debian's copy
    assert find_fashion_mnist(None, download=False) == DEBIAN_FMNIST
    fm = load_fashion_mnist(None, download=False)
    (xtr, ytr), (xte, yte) = fm['train'], fm['test']
    assert (xtr.shape, xte.shape) == ((60000, 1, 28, 28), (10000, 1, 28, 28)) and xtr.dtype == torch.uint8
    assert torch.bincount(ytr).tolist() == [6000] * 10 and torch.bincount(yte).tolist() == [1000] * 10
    assert 70 < xtr.float().mean() < 80          # the real images (mean pixel ~72.9), not noise

def test_missing_dataset_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv('STITCHBOOK_DATA', str(tmp_path))
    with pytest.raises(UserError, match=r"Fashion-MNIST not found.*apt-get install dataset-fashion-mnist.*run once while online"):
        find_fashion_mnist(None, download=False, system_path=tmp_path/'no-debian')

def test_a_named_data_path_without_the_data_is_an_error(tmp_path):
    with pytest.raises(UserError, match=str(tmp_path)):
        find_fashion_mnist(tmp_path, download=False)

def test_bad_data_path_is_named():
    with pytest.raises(ConfigError, match=r"data_path: no such folder /definitely/not/here; create it"):
        make_data({'dataset': 'fashion-mnist'}, data_path='/definitely/not/here')

def test_unknown_dataset_name_suggests_the_nearest():
    with pytest.raises(ConfigError, match=r"train_config.dataset: unknown dataset 'cifar-1O'.*Did you mean 'cifar10'"):
        make_data({'dataset': 'cifar-1O'})

def test_missing_imagenet_folder_is_named(tmp_path):
    with pytest.raises(UserError, match=r"imagenet: no folder .*imagenet/train"):
        make_data({'dataset': 'imagenet'}, data_path=tmp_path)

@needs_debian
def test_no_augmentation_means_none_and_subsets_are_seeded():
    tc = {'dataset': 'fashion-mnist', 'batch_size': 100, 'seed': 5, 'data_augmentation': False,
          'data_preprocessing': {'image_size': 32, 'subset': 1000, 'channels': 3}}
    a, b = make_data(tc), make_data(tc)
    assert a.input_shape == (3, 32, 32) and a.num_classes == 10 and len(a.train) == 10
    xa, ya = next(iter(a.train)); xb, yb = next(iter(b.train))
    assert torch.equal(xa, xb) and torch.equal(ya, yb)
    a.train.load_state_dict({'epoch': 0, 'next_batch': 0}); assert torch.equal(next(iter(a.train))[0], xa)   # no random crop
