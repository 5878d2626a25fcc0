"""What tests share: the reference system's example configs (`../shared/reference/configs`, beside the repository),
the installed commands, and small Fashion-MNIST sweeps of the zoo's networks."""
import json, os, sys
from pathlib import Path
import pytest, yaml

SHARED = Path(os.environ.get('STITCHBOOK_SHARED', Path(__file__).resolve().parents[2]/'shared'))
CONFIGS = SHARED/'reference'/'configs'
SWEEP_EXE = str(Path(sys.executable).parent/'stitch-sweep')
STATUS_EXE = str(Path(sys.executable).parent/'stitch-status')

def reference_configs(folder:str)->list:
    "The YAML files in `configs/<folder>`; CI must have them, elsewhere their tests are skipped."
    files = sorted((CONFIGS/folder).glob('*.yml'))
    if not files and os.environ.get('CI'): raise RuntimeError(f"CI needs the reference configs at {CONFIGS/folder}")
    return files or [pytest.param(None, marks=pytest.mark.skip(reason=f"no reference configs at {CONFIGS/folder}"))]

def needs_fmnist():
    "Skip a test when Debian's Fashion-MNIST is not installed (`./run.sh test` installs it)."
    from stitchbook.data import DEBIAN_FMNIST
    return pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="needs Fashion-MNIST (./run.sh test installs it)")

def fmnist_sweep(stitchers:list,              # stitcher names
                 gap:tuple=(2, 2),            # blocks_to_drop of the one gap
                 num_downsamples:int=1,       # of the gap
                 chunk:str='job',             # launcher.chunk
                 parallel:int=1,              # launcher.parallel
                 subset:int=4000,             # training images
                 test_subset:int=1000,        # test images
                 epochs:int=3,
                 **keys                       # other keys: `src_arch`, `dest_arch`, ... (default: `arch: fmnist_resnet`)
                )->str:
    "A one-gap sweep config (YAML) on Fashion-MNIST at 32x32, 100 images a batch."
    cfg = {**({} if 'src_arch' in keys else {'arch': 'fmnist_resnet'}), **keys, 'gaps': [{'blocks_to_drop': list(gap),
           'num_downsamples': num_downsamples}], 'stitchers': list(stitchers),
           'launcher': {'chunk': chunk, 'parallel': parallel},
           'train_config': {'dataset': 'fashion-mnist', 'batch_size': 100, 'epochs': epochs,
                            'data_preprocessing': {'image_size': 32, 'subset': subset, 'test_subset': test_subset}}}
    return yaml.safe_dump(cfg, sort_keys=False)

def attempt_events(root)->dict:
    "Each job folder's history under `root`, by name: the entries of its `attempts.jsonl`."
    return {f.parent.name: [json.loads(line) for line in open(f)] for f in Path(root).glob('*/attempts.jsonl')}
