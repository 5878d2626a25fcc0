"""Bad input fails fast: every bad config whose mistake needs no model is refused by `check_config_file` with the
message `stitch-check` gives (its `# expect:` line), in a fresh process that never imports torch, timm or torchvision."""
import os, re, subprocess, sys
from pathlib import Path
import pytest

CORPUS = Path(__file__).parent/'bad_configs'              # the corpus of tests/test_bad_configs.py
CASES = sorted(p for p in CORPUS.rglob('*.yml') if p.read_text().startswith('# expect:'))
def expected(path): return path.read_text().splitlines()[0].removeprefix('# expect:').strip()

HEAVY = ('torch', 'timm', 'torchvision')
# The fixtures whose mistake is in the parts of the model: checked by stitchbook.assembly and stitchbook.parts, whose
# part classes are torch modules, after the model-free phase.
NEEDS_PARTS = {'bad_class_token', 'channel_mismatch', 'cut_inside_block', 'format_channel_mismatch', 'frozen_not_bool',
               'function_not_allowed', 'missing_required_argument', 'parallel_bad_agg', 'part_not_a_mapping',
               'token_count_not_square', 'unknown_adapter_argument', 'unknown_model', 'unknown_node',
               'unknown_part_class', 'vector_to_image', 'wrong_out_format'}
MODEL_FREE = [p for p in CASES if p.stem not in NEEDS_PARTS]

def fresh(code:str)->subprocess.CompletedProcess:
    "Run `code` in a new interpreter, offline."
    return subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, 'HF_HUB_OFFLINE': '1'})

CHECK = """
import sys
from stitchbook.config import ConfigError, check_config_file
try: check_config_file({path!r}); print('PASSED')
except ConfigError as e: print('ERROR', e)
print('HEAVY', [m for m in {heavy!r} if m in sys.modules])
"""

def test_every_fixture_is_sorted(): assert len(MODEL_FREE) >= 15 and {p.stem for p in CASES} >= NEEDS_PARTS

@pytest.mark.parametrize('path', MODEL_FREE, ids=lambda p: p.stem)
def test_model_free_mistake_fails_without_torch(path):
    r = fresh(CHECK.format(path=str(path), heavy=HEAVY))
    assert r.returncode == 0, r.stderr
    err = re.search(r'^ERROR (.*)$', r.stdout, re.M)
    assert err, f"{path.name} passed the model-free check:\n{r.stdout}"
    assert expected(path) in err[1], f"\nexpected: {expected(path)}\n     got: {err[1]}"
    assert 'HEAVY []' in r.stdout, r.stdout

def test_good_config_passes_without_torch():
    r = fresh(CHECK.format(path=str(Path(__file__).parents[1]/'configs'/'fmnist-resnet-convnext.yml'), heavy=HEAVY))
    assert r.returncode == 0 and 'PASSED' in r.stdout and 'HEAVY []' in r.stdout, r.stdout + r.stderr

@pytest.mark.parametrize('module', ['stitchbook', 'stitchbook.errors', 'stitchbook.files', 'stitchbook.config'])
def test_light_modules_import_no_torch(module):
    r = fresh(f"import sys, {module}; print([m for m in {HEAVY!r} if m in sys.modules])")
    assert r.returncode == 0 and r.stdout.strip() == '[]', r.stdout + r.stderr

def test_zoo_names_resolve_without_importing_the_zoo():
    r = fresh("from stitchbook.models import backend_of; print(backend_of('fmnist_resnet'), backend_of('convnet'))")
    assert r.stdout.split() == ['zoo', 'stitchbook'], r.stdout + r.stderr
