"""Security items of issue 17: config strings cannot lead a sweep out of its output root, a config cannot run
Python's own functions as a model factory, and `stitch-report` does not unpickle results unless asked. Each refusal
exits 2 with one paragraph naming the key or flag, no traceback, and nothing written anywhere."""
import os, pickle, subprocess, sys
from pathlib import Path
import pandas as pd
import pytest, yaml
from stitchbook.cli import stitch_sweep, stitch_check, stitch_report

BIN = Path(sys.executable).parent
SWEEP = dict(arch='test_resnet', model_args={'in_chans': 1}, input_shape=[1, 32, 32],
             gaps=[{'blocks_to_drop': [2, 2], 'num_downsamples': 1}], stitchers=['linear_no_downsample'],
             train_config={'dataset': 'fashion-mnist', 'epochs': 1})

def tree(folder:Path)->dict:
    "Every path under `folder` (links not followed), with its size or link target: what a run may not change."
    def what(p): return os.readlink(p) if p.is_symlink() else (p.stat().st_size if p.is_file() else 'dir')
    return {str(p.relative_to(folder)): what(p) for p in sorted(folder.rglob('*'))}

def run_cli(name, *args, cwd, env=None):
    return subprocess.run([str(BIN/name), *map(str, args)], capture_output=True, text=True, cwd=cwd,
                          env={**os.environ, 'HF_HUB_OFFLINE': '1', **(env or {})})

def one_paragraph(err:str, prog:str, *names):
    "A clean refusal: one line from `prog`, naming each of `names`, with no traceback."
    assert err.startswith(f'{prog}: error: ') and err.count('\n') == 1, err
    assert 'Traceback' not in err, err
    for n in names: assert n in err, f"{n!r} not in: {err}"

@pytest.fixture
def work(tmp_path):
    "A working folder `tmp_path/work` with the output root `work/root` two levels below `tmp_path`."
    (tmp_path/'work').mkdir()
    return tmp_path/'work'

def write_cfg(work:Path, cfg:dict, name='sweep.yml')->Path:
    p = work/name; p.write_text(yaml.safe_dump(cfg)); return p

# ---- 1. Names that would leave the output root ----

ESCAPES = [('project-dotdot', dict(project='../../escaped'), "project: '../../escaped' holds '..'"),
           ('project-absolute', dict(project='ABS'), 'is an absolute path'),
           ('project-separator', dict(project='a/b'), "project: 'a/b' holds a path separator"),
           ('project-backslash', dict(project='a\\b'), 'holds a path separator'),
           ('project-not-string', dict(project=['x']), "project: ['x'] is not a string"),
           ('dataset-dotdot', dict(train_config={'dataset': '../../x', 'epochs': 1}), 'train_config.dataset'),
           ('task-dataset-separator', dict(train_config={'tasks': [{'dataset': 'mnist'}, {'dataset': 'x/y'}]}),
            'train_config.tasks[1].dataset')]

@pytest.mark.parametrize('case,change,expect', ESCAPES, ids=[c[0] for c in ESCAPES])
def test_path_names_are_refused_before_anything_is_written(case, change, expect, work, capsys):
    if change.get('project') == 'ABS': change = dict(project=str(work.parent/'abs'))
    cfg = write_cfg(work, {**SWEEP, **change})
    before = tree(work.parent)
    with pytest.raises(SystemExit) as e: stitch_sweep(Config=[str(cfg)], Output=str(work/'root'), do_not_launch=True,
                                                      no_pretrained=True)
    assert e.value.code == 2
    one_paragraph(capsys.readouterr().err, 'stitch-sweep', expect, 'plain name')
    assert tree(work.parent) == before and not (work/'root').exists()

def test_sweep_name_from_the_file_name_is_refused(work, capsys):
    cfg = write_cfg(work, SWEEP, '...yml')                                        # its stem is '..'
    before = tree(work.parent)
    with pytest.raises(SystemExit) as e: stitch_sweep(Config=[str(cfg)], Output=str(work/'root'), dry_run=True)
    assert e.value.code == 2
    one_paragraph(capsys.readouterr().err, 'stitch-sweep', "sweep name: '..' holds '..'")
    assert tree(work.parent) == before

def test_force_does_not_delete_through_a_symlink_out_of_the_root(work, capsys):
    victim = work.parent/'victim'/'train-sweep-gap-2,2-adapter-linear_no_downsample'
    victim.mkdir(parents=True)
    for f in ('status.json', 'result-0.parquet', 'attempts.jsonl'): (victim/f).write_text('{}')
    (work/'root'/'across-scales').mkdir(parents=True)
    (work/'root'/'across-scales'/'sweep').symlink_to(victim.parent)
    cfg = write_cfg(work, SWEEP)
    before = tree(work.parent)
    with pytest.raises(SystemExit) as e: stitch_sweep(Config=[str(cfg)], Output=str(work/'root'), force=True,
                                                      executor='debug', no_pretrained=True)
    assert e.value.code == 2
    one_paragraph(capsys.readouterr().err, 'stitch-sweep', 'outside the output root', '-o')
    assert tree(work.parent) == before

def test_escaping_project_from_the_command_line(work):
    cfg = write_cfg(work, {**SWEEP, 'project': '../../escaped'})
    before = tree(work.parent)
    r = run_cli('stitch-sweep', '-c', cfg, '-o', 'root', '--do-not-launch', '--no-pretrained', cwd=work)
    assert r.returncode == 2 and r.stdout == ''
    one_paragraph(r.stderr, 'stitch-sweep', 'project:', "holds '..'")
    assert tree(work.parent) == before and not (work.parent/'escaped').exists()

def test_a_plain_project_still_works(work, capsys):
    cfg = write_cfg(work, {**SWEEP, 'project': 'my-project_v2.1'})
    stitch_sweep(Config=[str(cfg)], Output=str(work/'root'), do_not_launch=True, no_pretrained=True)
    jobs = sorted(p.name for p in (work/'root'/'my-project_v2.1'/'sweep').iterdir())
    assert jobs == ['parent-sweep-test_resnet', 'train-sweep-gap-2,2-adapter-linear_no_downsample']

# ---- 2. A factory from Python's standard library never runs ----

REEXPORT = "from os import system as make_net\nfrom subprocess import getoutput as build\n"

FACTORIES = [('os-system', 'os:system', "'os', part of Python's standard library"),
             ('builtins-exec', 'builtins:exec', "'builtins'"),
             ('subprocess-run', 'subprocess:run', "'subprocess'"),
             ('reexported-os-system', 'evil_nets:make_net', "defined in 'posix'"),
             ('reexported-subprocess', 'evil_nets:build', "defined in 'subprocess'")]

def factory_job(work:Path, spec:str, marker:Path)->Path:
    (work/'evil_nets.py').write_text(REEXPORT)
    arg = {'source': f"open({str(marker)!r}, 'w')"} if spec.startswith('builtins') else (
          {'args': ['touch', str(marker)]} if spec == 'subprocess:run' else {'command': f'touch {marker}'})
    part = {'Subnet': {'model_name': spec, 'model_args': arg, 'block_input': 'x', 'block_output': 'fc'}}
    return write_cfg(work, {'assembly': [part], 'train_config': {'dataset': 'fashion-mnist', 'epochs': 1}}, 'job.yml')

@pytest.mark.parametrize('case,spec,expect', FACTORIES, ids=[c[0] for c in FACTORIES])
def test_stdlib_factory_is_refused_before_it_is_called(case, spec, expect, work, capsys, monkeypatch):
    marker = work.parent/'MARKER'
    cfg = factory_job(work, spec, marker)
    monkeypatch.syspath_prepend(str(work))
    before = tree(work.parent)
    with pytest.raises(SystemExit) as e: stitch_check(str(cfg), no_pretrained=True)
    assert e.value.code == 2
    one_paragraph(capsys.readouterr().err, 'stitch-check', 'assembly[0].Subnet.model_name', expect)
    assert not marker.exists() and tree(work.parent) == before

def test_stdlib_factory_in_a_sweep_from_the_command_line(work):
    marker = work.parent/'MARKER'
    (work/'evil_nets.py').write_text(REEXPORT)
    cfg = write_cfg(work, {**SWEEP, 'arch': 'evil_nets:make_net', 'model_args': {'command': f'touch {marker}'}})
    before = tree(work.parent)
    r = run_cli('stitch-sweep', '-c', cfg, '-o', 'root', '--do-not-launch', '--no-pretrained', cwd=work,
                env={'PYTHONPATH': str(work)})
    assert r.returncode == 2
    one_paragraph(r.stderr, 'stitch-sweep', "'evil_nets:make_net'", "defined in 'posix'")
    assert not marker.exists() and tree(work.parent) == before

def test_os_system_job_from_the_command_line(work):
    marker = work.parent/'MARKER'
    cfg = factory_job(work, 'os:system', marker)
    r = run_cli('stitch-check', cfg, '--no-pretrained', cwd=work)
    assert r.returncode == 2
    one_paragraph(r.stderr, 'stitch-check', 'assembly[0].Subnet.model_name', "'os:system'")
    assert not marker.exists()

# ---- 3. Pickled results are opt-in ----

class Payload:
    "Unpickling it runs `touch MARKER`."
    def __init__(self, marker): self.marker = marker
    def __reduce__(self): return (os.system, (f'touch {self.marker}',))

def reference_job(root:Path, table)->Path:
    "A job folder as the reference writes it: its five metadata keys and a pickled results table."
    job = root/'sweep'/'train-sweep-gap-1,1-adapter-a'; job.mkdir(parents=True)
    (job/'metadata.yml').write_text(yaml.safe_dump(dict(arch='net', first_deleted_block=1, last_deleted_block=1,
                                                        num_downsamples=0, adapter='a')))
    (job/'result-0.pkl').write_bytes(pickle.dumps(table))
    return job

def test_crafted_pickle_is_not_opened_without_the_flag(work, capsys):
    marker = work.parent/'MARKER'
    reference_job(work/'root', Payload(marker))
    before = tree(work.parent)
    with pytest.raises(SystemExit) as e: stitch_report(str(work/'root'))
    assert e.value.code == 2
    one_paragraph(capsys.readouterr().err, 'stitch-report', 'result-0.pkl', '--trust-pickles', 'trust=True')
    assert not marker.exists() and tree(work.parent) == before

def test_crafted_pickle_from_the_command_line(work):
    marker = work.parent/'MARKER'
    reference_job(work/'root', Payload(marker))
    before = tree(work.parent)
    r = run_cli('stitch-report', 'root', cwd=work)
    assert r.returncode == 2
    one_paragraph(r.stderr, 'stitch-report', '--trust-pickles')
    assert not marker.exists() and tree(work.parent) == before

def test_trusted_dataframe_pickle_loads_with_the_flag(work):
    reference_job(work/'root', pd.DataFrame({'Epoch': [0, 1], 'Overall/Test Accuracy': [0.4, 0.6]}))
    r = run_cli('stitch-report', 'root', '--trust-pickles', cwd=work)
    assert r.returncode == 0, r.stderr[-2000:]
    df = pd.read_parquet(work/'root'/'results.parquet')
    assert df['Overall/Test Accuracy'].tolist() == [0.4, 0.6] and (work/'root'/'report.html').exists()
