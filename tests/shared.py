"Where the reference system's example configs live: `../shared/reference/configs`, beside the repository."
import os
from pathlib import Path
import pytest

SHARED = Path(os.environ.get('STITCHBOOK_SHARED', Path(__file__).resolve().parents[2]/'shared'))
CONFIGS = SHARED/'reference'/'configs'

def reference_configs(folder:str)->list:
    "The YAML files in `configs/<folder>`; CI must have them, elsewhere their tests are skipped."
    files = sorted((CONFIGS/folder).glob('*.yml'))
    if not files and os.environ.get('CI'): raise RuntimeError(f"CI needs the reference configs at {CONFIGS/folder}")
    return files or [pytest.param(None, marks=pytest.mark.skip(reason=f"no reference configs at {CONFIGS/folder}"))]
