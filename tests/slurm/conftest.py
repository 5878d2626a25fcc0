"The `slurm` fixture: a one-node Slurm cluster on localhost for this test session (see `cluster.py`)."
import os, sys
from pathlib import Path
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from cluster import LocalSlurm

@pytest.fixture(scope='session')
def slurm(tmp_path_factory):
    "A running cluster; `SLURM_CONF` points this process (and the commands it starts) at it. Skipped, with the reason, where the daemons cannot run, except in CI, which must run these tests."
    cluster = LocalSlurm(tmp_path_factory.mktemp('slurm'))
    why = cluster.start()
    if why:
        if os.environ.get('CI'): pytest.fail(f"CI must run the Slurm tests, but the test cluster did not start: {why}")
        pytest.skip(f"no test Slurm cluster: {why}")
    old = os.environ.get('SLURM_CONF')
    os.environ['SLURM_CONF'] = str(cluster.conf)
    yield cluster
    cluster.stop()
    if old is None: os.environ.pop('SLURM_CONF', None)
    else: os.environ['SLURM_CONF'] = old
