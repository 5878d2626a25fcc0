"The docs build without Quarto: nbdev's processed notebooks rendered to HTML with pandoc."
import subprocess, sys
from pathlib import Path
ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT/'tools'))
from render_docs import render

def test_every_notebook_renders_to_a_page(tmp_path):
    bin_dir = Path(sys.executable).parent
    r = subprocess.run([str(bin_dir/'nbdev-proc-nbs'), '--force'], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-4000:]
    pages = render(ROOT/'_proc', tmp_path/'site')
    names = {p.stem for p in pages}
    expected = {'index'} | {p.stem.split('_', 1)[1] for p in (ROOT/'nbs').glob('[0-9]*.ipynb')}
    assert names == expected
    cut = (tmp_path/'site'/'cut.html').read_text()
    assert '<h1>Cutting networks into pieces</h1>' in cut and '<h3>Cut errors</h3>' in cut.replace(' id="cut-errors"', '')
    assert 'show_doc' not in cut                      # doc cells were executed into signatures, not shown as code
    assert 'first node or module kept' in cut        # the signature with its docments is on the page
