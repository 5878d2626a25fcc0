"""The bad-config corpus: every file in tests/bad_configs/ must fail `stitch-check` before training, with one paragraph
that names the key path and the fix (its `# expect:` line), and no traceback: through the command's front door
(`stitchbook.cli`, which checks what needs no model first), and through `stitchbook.assembly.check_from_flags`, the
check behind it, which builds the model: a config the front door lets through must still fail there, as clearly."""
import os, subprocess, sys
from pathlib import Path
import pytest
from stitchbook import assembly, cli
from stitchbook.errors import UserError

CORPUS = Path(__file__).parent/'bad_configs'
CASES = sorted(p for p in CORPUS.rglob('*.yml') if p.read_text().startswith('# expect:'))

def expected(path): return path.read_text().splitlines()[0].removeprefix('# expect:').strip()

def test_corpus_is_large_enough(): assert len(CASES) >= 20

@pytest.mark.parametrize('path', CASES, ids=lambda p: p.stem)
def test_bad_config_fails_with_key_path(path, capsys):
    with pytest.raises(SystemExit) as e: cli.stitch_check(str(path), no_pretrained=True)
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith('stitch-check: error: ') and err.count('\n') == 1, err     # one paragraph
    assert expected(path) in err, f"\nexpected: {expected(path)}\n     got: {err}"
    assert 'Traceback' not in err

@pytest.mark.parametrize('path', CASES, ids=lambda p: p.stem)
def test_bad_config_fails_in_the_model_building_check_too(path):
    flags = dict(config=str(path), Config=None, no_pretrained=True, image_size=None, num_classes=None)
    with pytest.raises(UserError) as e: assembly.check_from_flags(flags)
    assert expected(path) in str(e.value), f"\nexpected: {expected(path)}\n     got: {e.value}"

def test_cli_error_has_no_traceback():
    exe = Path(sys.executable).parent/'stitch-check'
    r = subprocess.run([str(exe), '-c', str(CORPUS/'channel_mismatch.yml'), '--no-pretrained'], capture_output=True,
                       text=True, env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert 'assembly[1].SimpleAdapter.in_channels' in r.stderr and r.stdout == ''
