"Every notebook passes `nbdev-test`, one pytest test per notebook, each in its own process."
import subprocess, sys
from pathlib import Path
import pytest

NBS = sorted(p.name for p in (Path(__file__).parents[1]/'nbs').glob('*.ipynb'))

@pytest.mark.parametrize('nb', NBS)
def test_notebook_passes_nbdev_test(nb):
    bin_dir = Path(sys.executable).parent
    r = subprocess.run([str(bin_dir/'nbdev-test'), '--file-glob', nb], capture_output=True, text=True,
                       cwd=Path(__file__).parents[1])
    assert r.returncode == 0, f"nbdev-test failed on {nb}:\n{r.stdout[-4000:]}\n{r.stderr[-8000:]}"
