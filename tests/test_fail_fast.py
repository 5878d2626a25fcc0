"""Bad input fails fast: every bad config whose mistake needs no model is refused, with the message `stitch-check`
gives (its `# expect:` line), by the installed commands themselves, in a fresh process that never imports torch, timm
or torchvision. How long that takes is measured by bench/bad_config_latency.py, not here."""
import os, re, subprocess, sys
from pathlib import Path
import pytest

CORPUS = Path(__file__).parent/'bad_configs'              # the corpus of tests/test_bad_configs.py
CASES = sorted(p for p in CORPUS.rglob('*.yml') if p.read_text().startswith('# expect:'))
def expected(path): return path.read_text().splitlines()[0].removeprefix('# expect:').strip()

BIN = Path(sys.executable).parent
HEAVY = ('torch', 'timm', 'torchvision')
# The fixtures whose mistake is in the arguments of a part or in the model itself: checked by stitchbook.parts and
# stitchbook.assembly, whose part classes are torch modules, after the model-free phase. A part's class name, its
# shape as a one-key mapping and its `frozen` flag are model-free (stitchbook.config.part_args).
NEEDS_PARTS = {'bad_class_token', 'channel_mismatch', 'cut_inside_block', 'format_channel_mismatch',
               'function_not_allowed', 'missing_required_argument', 'parallel_bad_agg', 'token_count_not_square',
               'unknown_adapter_argument', 'unknown_model', 'unknown_node', 'vector_to_image', 'wrong_out_format'}
MODEL_FREE = [p for p in CASES if p.stem not in NEEDS_PARTS]
COMMANDS = ['stitch-train', 'stitch-check']

def fresh(*args, code:str|None=None)->subprocess.CompletedProcess:
    "Run an installed command (or `code`) in a new interpreter with `-X importtime`, offline."
    cmd = [sys.executable, '-X', 'importtime'] + (['-c', code] if code else [str(BIN/args[0]), *map(str, args[1:])])
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, env={**os.environ, 'HF_HUB_OFFLINE': '1'})

def imported(r:subprocess.CompletedProcess)->set:
    "The heavy packages that `-X importtime` saw imported."
    names = {line.rsplit('|', 1)[-1].strip() for line in r.stderr.splitlines() if line.startswith('import time:')}
    return {n.split('.')[0] for n in names} & set(HEAVY)

def refusal(r:subprocess.CompletedProcess, prog:str)->str:
    "The one-paragraph error of `prog`, once the import-time lines are set aside."
    lines = [l for l in r.stderr.splitlines() if not l.startswith('import time:')]
    assert len(lines) == 1 and lines[0].startswith(f'{prog}: error: '), r.stderr[-3000:]
    return lines[0]

def test_every_fixture_is_sorted():
    assert len(MODEL_FREE) >= 20 and {p.stem for p in CASES} >= NEEDS_PARTS

@pytest.mark.parametrize('command', COMMANDS)
@pytest.mark.parametrize('path', MODEL_FREE, ids=lambda p: p.stem)
def test_model_free_mistake_fails_without_torch(path, command):
    r = fresh(command, '-c', path)
    assert r.returncode == 2, r.stderr[-3000:]
    assert expected(path) in refusal(r, command)
    assert imported(r) == set(), f"{command} imported {imported(r)} before refusing {path.name}"

def test_a_mistake_that_needs_the_model_is_found_after_the_import():
    r = fresh('stitch-check', '-c', CORPUS/'unknown_adapter_argument.yml', '--no-pretrained')
    assert r.returncode == 2 and expected(CORPUS/'unknown_adapter_argument.yml') in refusal(r, 'stitch-check')
    assert imported(r) == {'torch', 'timm', 'torchvision'}       # proves the check above can see an import

FLAGS = [('stitch-train', ['-e', '-1'], '-e/--epochs: must be an integer from 0 to 10,000, got -1'),
         ('stitch-train', ['--device', 'bogus'], "--device: 'bogus' is not a device"),
         ('stitch-train', ['--metrics-output', '/nonexistent-folder/r.parquet'], 'set by --metrics-output'),
         ('stitch-sweep', ['--parallel', '0'], '--parallel: must be an integer > 0'),
         ('stitch-sweep', ['--seeds', '1,x'], '--seeds takes numbers separated by commas'),
         ('stitch-similarity', ['--init', 'svd'], '--init: use lstsq, ridge, procrustes')]

@pytest.mark.parametrize('command,flags,expect', FLAGS, ids=[f"{c}{''.join(f)}" for c, f, _ in FLAGS])
def test_bad_flag_fails_without_torch(command, flags, expect, tmp_path):
    job = tmp_path/'job.yml'
    job.write_text("assembly: [{Subnet: {model_name: test_resnet}}]\ntrain_config: {dataset: fashion-mnist}\n")
    if command != 'stitch-train': job.write_text("arch: test_resnet\ntrain_config: {dataset: fashion-mnist}\n")
    r = fresh(command, '-c', job, '-o', tmp_path/'out', *flags)
    assert r.returncode == 2 and expect in refusal(r, command)
    assert imported(r) == set() and not (tmp_path/'out').exists()

@pytest.mark.parametrize('command', ['stitch-sweep', 'stitch-status', 'stitch-similarity'])
def test_bad_sweep_fails_without_torch(command, tmp_path):
    (tmp_path/'s.yml').write_text("arch: test_resnet\nstitchers: [linear_no_downsampl]\n")
    r = fresh(command, '-c', tmp_path/'s.yml', '-o', tmp_path/'out')
    assert r.returncode == 2 and "Did you mean 'linear_no_downsample'" in refusal(r, command)
    assert imported(r) == set()

def test_good_config_passes_without_torch():
    code = ("import sys; from stitchbook.config import check_config_file; "
            f"check_config_file({str(Path(__file__).parents[1]/'configs'/'fmnist-resnet-convnext.yml')!r})")
    r = fresh(code=code)
    assert r.returncode == 0 and imported(r) == set(), r.stderr[-3000:]

@pytest.mark.parametrize('module', ['stitchbook', 'stitchbook.errors', 'stitchbook.files', 'stitchbook.config',
                                    'stitchbook.sweep_config', 'stitchbook.cli'])
def test_light_modules_import_no_torch(module):
    r = fresh(code=f"import {module}")
    assert r.returncode == 0 and imported(r) == set(), r.stderr[-3000:]

def test_zoo_names_resolve_without_importing_the_zoo():
    r = subprocess.run([sys.executable, '-c', "from stitchbook.models import backend_of; "
                        "print(backend_of('fmnist_resnet'), backend_of('convnet'))"], capture_output=True, text=True,
                       env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert r.stdout.split() == ['zoo', 'stitchbook'], r.stdout + r.stderr
