"""The job folder's contract has one owner, `stitchbook.jobs`: no other module names its files, planning and analysis
reach job folders through it (not through training), functions stay short, and every CLI is its own signature."""
import ast, re, subprocess, sys
from pathlib import Path
import pytest
from fastcore.script import anno_parser

PKG = Path(__file__).parent.parent/'stitchbook'
# a job folder's files, as a string literal names them (whole, or the start of an f-string)
NAMES = re.compile(r"(status\.json|attempts\.jsonl|model\.json|metadata\.yml|config\.yml|job\.ipynb|\.lock"
                   r"|(result|test|checkpoint|cache)-.*)")
ALLOWED = {('files.py', '.lock')}       # `stitchbook.files.job_lock` owns the lock file, and `jobs` uses it
MINE = ('job', 'jobs', 'sweep', 'cross', 'experiments', 'launch', 'results')

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

def test_every_cli_is_its_own_signature():
    import inspect
    from stitchbook.job import stitch_train
    from stitchbook.launch import stitch_sweep, stitch_status
    for f in (stitch_train, stitch_sweep, stitch_status):
        dests = {a.dest for a in anno_parser(f)._actions} - {'help', 'pdb', 'xtra'}
        assert dests == set(inspect.signature(f).parameters), f.__name__
        assert 'sys.argv' not in inspect.getsource(inspect.unwrap(f))
    opts = {a.dest: a.option_strings for a in anno_parser(stitch_sweep)._actions}
    assert opts['Config'] == ['-c', '--config'] and opts['Output'] == ['-o', '--output']

def test_a_repeated_c_is_a_list(tmp_path, monkeypatch):
    from fastcore.script import parse_cli
    from stitchbook.launch import stitch_sweep
    monkeypatch.setattr(sys, 'argv', ['stitch-sweep', '-c', 'a.yml', '-c', 'b.yml', '-o', str(tmp_path)])
    _, kw, _ = parse_cli(stitch_sweep)
    assert kw['Config'] == ['a.yml', 'b.yml'] and kw['Output'] == str(tmp_path)

def test_status_is_a_command_of_its_own():
    r = subprocess.run([str(Path(sys.executable).parent/'stitch-status'), '--help'], capture_output=True, text=True)
    assert r.returncode == 0 and '-c' in r.stdout and '--output' in r.stdout
