"""The job folder's contract has one owner, `stitchbook.jobs`: no other module names its files, planning and analysis
reach job folders through it (not through training), functions stay short, and every CLI is its own signature."""
import ast, re, subprocess, sys
from pathlib import Path
import pytest
from fastcore.script import anno_parser
from stitchbook.cli import flag_name

PKG = Path(__file__).parent.parent/'stitchbook'
# a job folder's files, as a string literal names them (whole, or the start of an f-string)
NAMES = re.compile(r"(status\.json|attempts\.jsonl|model\.json|metadata\.yml|config\.yml|job\.ipynb|\.lock"
                   r"|(result|test|checkpoint|cache)-.*)")
ALLOWED = {('files.py', '.lock')}       # `stitchbook.files.job_lock` owns the lock file, and `jobs` uses it
MINE = ('job', 'jobs', 'sweep', 'cross', 'experiments', 'worker', 'launch', 'results')

def _docstrings(tree):
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant): yield first.value

def _literals(path):
    "The string literals of a module that could name a file: whole constants, and the first part of f-strings."
    tree = ast.parse(path.read_text())
    skip = {id(d) for d in _docstrings(tree)}
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            skip.update(id(v) for v in node.values)
            yield node.values[0].value
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip: yield node.value

def test_only_jobs_names_the_files_of_a_job_folder():
    found = [(p.name, s) for p in sorted(PKG.glob('*.py')) if p.name not in ('jobs.py', '_modidx.py')
             for s in _literals(p) if NAMES.fullmatch(s) and (p.name, s) not in ALLOWED]
    assert found == []

def _imports(name):
    tree = ast.parse((PKG/f'{name}.py').read_text())
    return {n.module or '' for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)} | {
        a.name for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module is None for a in n.names}

def test_planning_and_analysis_reach_job_folders_through_jobs():
    assert 'job' not in _imports('sweep') and 'jobs' in _imports('sweep')
    assert 'sweep' not in _imports('results') and 'job' not in _imports('results') and 'jobs' in _imports('results')
    assert 'job' not in _imports('jobs') and 'sweep' not in _imports('jobs')

@pytest.mark.parametrize('name', MINE)
def test_no_function_is_over_40_lines(name):
    tree = ast.parse((PKG/f'{name}.py').read_text())
    long = [(n.name, n.end_lineno - n.lineno + 1) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 40]
    assert long == []

def _scripts()->dict:
    "Each installed command and the function `[project.scripts]` points it at."
    import tomllib
    return tomllib.loads((PKG.parent/'pyproject.toml').read_text())['project']['scripts']

@pytest.mark.parametrize('command', [c for c, target in _scripts().items() if target.startswith('stitchbook.cli:')])
def test_every_cli_is_its_own_signature(command):
    "The installed command's `--help` lists the parameters of its `stitchbook.cli` function, and nothing else."
    import inspect
    from stitchbook import cli
    f = getattr(cli, _scripts()[command].split(':')[1])
    assert 'sys.argv' not in inspect.getsource(inspect.unwrap(f))
    params = inspect.signature(f).parameters
    r = subprocess.run([str(Path(sys.executable).parent/command), '--help'], capture_output=True, text=True)
    shown = set(re.findall(r'(?<![\w-])--[a-z][\w-]*', r.stdout)) - {'--help', '--pdb', '--xtra'}
    assert r.returncode == 0 and shown == {flag_name(p).split('/')[-1] for p, v in params.items()
                                          if v.default is not inspect.Parameter.empty}
    assert all(p in r.stdout for p, v in params.items() if v.default is inspect.Parameter.empty)     # positional

def test_short_flags_are_the_references():
    from stitchbook.cli import stitch_sweep, stitch_train
    opts = {a.dest: a.option_strings for a in anno_parser(stitch_sweep)._actions}
    assert opts['Config'] == ['-c', '--config'] and opts['Output'] == ['-o', '--output']
    opts = {a.dest: a.option_strings for a in anno_parser(stitch_train)._actions}
    assert [opts[k] for k in ('Epochs', 'Batch_size', 'Verbose')] == [['-e', '--epochs'], ['-b', '--batch-size'],
                                                                      ['-v', '--verbose']]

def test_a_repeated_c_is_a_list(tmp_path, monkeypatch):
    from fastcore.script import parse_cli
    from stitchbook.cli import stitch_sweep
    monkeypatch.setattr(sys, 'argv', ['stitch-sweep', '-c', 'a.yml', '-c', 'b.yml', '-o', str(tmp_path)])
    _, kw, _ = parse_cli(stitch_sweep)
    assert kw['Config'] == ['a.yml', 'b.yml'] and kw['Output'] == str(tmp_path)

def test_status_is_a_command_of_its_own():
    r = subprocess.run([str(Path(sys.executable).parent/'stitch-status'), '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and '-c' in r.stdout and '--output' in r.stdout
