"""A sweep through a real Slurm scheduler: one job array, Slurm's states in `stitch-status`, requeue and resume,
cancel and relaunch, and `--force` cancelling what it replaces. The `slurm` fixture starts a one-node cluster."""
import json, re, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest
from stitchbook.data import DEBIAN_FMNIST
from stitchbook.jobs import attempts, results, state

pytestmark = pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="needs Fashion-MNIST (Debian dataset-fashion-mnist)")

SWEEP = """
arch: fmnist_resnet
gaps: [{blocks_to_drop: [2, 2], num_downsamples: 1}]
stitchers: [linear_no_downsample, downsample_then_linear]
launcher: {chunk: job}
train_config:
  dataset: fashion-mnist
  data_preprocessing: {image_size: 32, subset: 600, test_subset: 300}
  batch_size: 50
  epochs: EPOCHS
"""
BIN = Path(sys.executable).parent

def sweep(tmp_path, name:str, epochs:int=1)->tuple:
    "A tiny sweep config, its output root, and the folder its jobs are written to."
    cfg, out = tmp_path/f'{name}.yml', tmp_path/f'{name}-out'
    cfg.write_text(SWEEP.replace('EPOCHS', str(epochs)))
    return cfg, out, out/'across-scales'/name

def cli(name:str, cfg, out, *flags)->subprocess.CompletedProcess:
    return subprocess.run([str(BIN/name), '-c', str(cfg), '-o', str(out), *flags], capture_output=True, text=True)

def submit(cfg, out, *flags)->str:
    "Submit the sweep to Slurm; the job array's id."
    r = cli('stitch-sweep', cfg, out, '--executor', 'slurm', '--no-pretrained', *flags)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    arrays = re.findall(r'submitted job array (\d+)', r.stdout)
    assert len(arrays) == 1, r.stdout
    return arrays[0]

def folders(root)->list: return sorted(p.parent for p in Path(root).glob('*/config.yml'))

def wait_for(check, timeout:float=150, every:float=0.5):
    t0 = time.time()
    while time.time() - t0 < timeout:
        if got := check(): return got
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {check.__doc__ or check}")

def queued_tasks(slurm, array:str)->list:
    "The array's tasks that Slurm still has (pending or running), with their states."
    r = slurm.run('squeue', '-h', '-r', '-j', array, '-o', '%i %T')
    return [l.split() for l in r.stdout.splitlines() if l.strip()]

def starts(folder)->int: return sum(a['event'] == 'start' for a in attempts(folder))

def table(folder)->pd.DataFrame:
    "A job's final results, without the columns that time or place it."
    (_, df), = results(folder)
    timed = [c for c in df if re.search(r'time|second|host|path|folder|log', c, re.I)]
    return df.drop(columns=timed).reset_index(drop=True)

def all_done(root)->bool:
    "every job of the sweep to be done, with its executed notebook (copied when the task ends)"
    fs = folders(root)
    return bool(fs) and all(state(f) == 'done' and (f/'job.ipynb').exists() for f in fs)

@pytest.fixture(scope='module')
def finished(slurm, tmp_path_factory):
    "A sweep run start to end on Slurm, with what `stitch-status` printed while it ran."
    cfg, out, root = sweep(tmp_path_factory.mktemp('plain'), 'plain', epochs=3)
    array = submit(cfg, out)
    seen = []
    def over():
        "the sweep to finish"
        seen.append(cli('stitch-status', cfg, out).stdout)
        return all_done(root)
    wait_for(over, every=1)
    return dict(cfg=cfg, out=out, root=root, array=array, seen=seen)

def test_a_sweep_is_one_job_array_and_every_job_ends_done(slurm, finished):
    fs = folders(finished['root'])
    assert len(fs) >= 3
    ids = {json.loads((f/'status.json').read_text())['job_id'] for f in fs}
    assert {i.split('_')[0] for i in ids} == {finished['array']}, ids     # one array, a task per job
    assert len(ids) == len(fs)
    for f in fs:
        assert len(results(f)) > 0 and (f/'job.ipynb').exists(), f
        assert starts(f) == 1, attempts(f)
    r = cli('stitch-status', finished['cfg'], finished['out'])
    assert r.returncode == 0 and 'done' in r.stdout, r.stdout

def test_status_shows_slurms_states_while_jobs_wait_and_run(slurm, finished):
    shown = ' '.join(finished['seen'])
    assert re.search(r'\b(PENDING|RUNNING)\b', shown), finished['seen'][:3]

def test_requeued_task_resumes_from_its_checkpoint_to_the_same_table(slurm, finished, tmp_path):
    cfg, out, root = sweep(tmp_path, 'plain', epochs=3)
    submit(cfg, out)
    def training():
        "a job to be training, with a checkpoint"
        for f in folders(root):
            s = json.loads((f/'status.json').read_text()) if (f/'status.json').exists() else {}
            if s.get('state') == 'running' and (f/'checkpoint-last.pt').exists() and f.name.startswith('train-'):
                return f, s['job_id']
    folder, job_id = wait_for(training, every=0.1)
    (_, before), = results(folder)                                   # epochs 0 and 1 at least, with their timings
    r = slurm.run('scontrol', 'requeue', job_id)
    assert r.returncode == 0, r.stderr
    wait_for(lambda: slurm.run('squeue', '-h', '-j', job_id, '-o', '%T').stdout.strip() == 'PENDING')
    slurm.run('scontrol', 'update', f'JobId={job_id}', 'StartTime=now')    # Slurm holds a requeued job back 2 minutes
    wait_for(lambda: all_done(root))
    events = [a['event'] for a in attempts(folder)]
    assert events == ['start', 'interrupted', 'start', 'done'], attempts(folder)   # stopped once, not failed
    (_, after), = results(folder)
    kept = before.Epoch <= 1                                         # in the checkpoint: resumed, not measured again
    pd.testing.assert_frame_equal(after[after.Epoch <= 1].reset_index(drop=True), before[kept].reset_index(drop=True))
    for f in folders(root):
        pd.testing.assert_frame_equal(table(f), table(finished['root']/f.name))

def test_cancelled_array_relaunched_runs_each_unfinished_job_once(slurm, tmp_path):
    cfg, out, root = sweep(tmp_path, 'cancel', epochs=3)
    array = submit(cfg, out, '--array-parallelism', '1')
    wait_for(lambda: any(state(f) == 'done' for f in folders(root)))
    assert slurm.run('scancel', array).returncode == 0
    wait_for(lambda: not queued_tasks(slurm, array))
    done_before = {f.name for f in folders(root) if state(f) == 'done'}
    assert done_before and len(done_before) < len(folders(root))
    submit(cfg, out)
    wait_for(lambda: all_done(root))
    for f in folders(root):
        if f.name in done_before: assert starts(f) == 1, attempts(f)            # not run again
        assert sum(a['event'] == 'done' for a in attempts(f)) == 1, attempts(f)

def test_force_cancels_the_queued_array_before_it_submits_again(slurm, tmp_path):
    cfg, out, root = sweep(tmp_path, 'force', epochs=1)
    first = submit(cfg, out, '--array-parallelism', '1')
    assert queued_tasks(slurm, first)
    second = submit(cfg, out, '--force')
    still = [t for t in queued_tasks(slurm, first) if t[1] in ('PENDING', 'RUNNING')]   # COMPLETING: cancelled, ending
    assert second != first and not still, queued_tasks(slurm, first)
    wait_for(lambda: all_done(root))
    for f in folders(root):
        assert json.loads((f/'status.json').read_text())['job_id'].split('_')[0] == second
