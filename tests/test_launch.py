"Launching sweeps: a local sweep killed mid-way and re-run runs every job exactly once; Slurm submission without a cluster."
import glob, json, os, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest
from stitchbook.data import DEBIAN_FMNIST
from stitchbook.jobs import attempts
from stitchbook.launch import launch, status
from stitchbook.sweep import plan, write_jobs

SWEEP = """
arch: fmnist_resnet
gaps: [{blocks_to_drop: [2, 2], num_downsamples: 1}]
stitchers: [linear_no_downsample, downsample_then_linear, downsample_then_3x3conv]
launcher: {chunk: job, parallel: 1}
train_config:
  dataset: fashion-mnist
  data_preprocessing: {image_size: 32, subset: 4000, test_subset: 1000}
  batch_size: 100
  epochs: 3
"""
EXE = str(Path(sys.executable).parent/'stitch-sweep')
STATUS = str(Path(sys.executable).parent/'stitch-status')
needs_data = pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="needs Fashion-MNIST")

def _events(root):
    return {Path(f).parent.name: [json.loads(l)['event'] for l in open(f)] for f in glob.glob(f"{root}/*/attempts.jsonl")}

@needs_data
def test_local_sweep_killed_midway_then_rerun_runs_each_job_exactly_once(tmp_path):
    cfg, out = tmp_path/'k.yml', tmp_path/'exp'
    cfg.write_text(SWEEP)
    root = out/'across-scales'/'k'
    args = [EXE, '-c', str(cfg), '-o', str(out), '--no-pretrained']
    proc = subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0, killed_mid_training = time.time(), False
    try:
        while time.time() - t0 < 240 and proc.poll() is None:      # kill once a stitch is done and the next one is training
            ev = _events(root)
            done = [k for k, v in ev.items() if 'done' in v and k.startswith('train-')]
            busy = [k for k, v in ev.items() if v == ['start'] and (root/k/'checkpoint-last.pt').exists()]
            if done and busy: killed_mid_training = True; break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)             # the launcher and submitit's processes: one process group
        for f in root.glob('*/status.json'):            # and the notebook kernels, which papermill starts in sessions of their own
            s = json.loads(f.read_text())
            if s.get('state') == 'running' and s.get('pid'):
                try: os.kill(s['pid'], signal.SIGKILL)
                except ProcessLookupError: pass
    proc.wait()
    assert killed_mid_training, f"the sweep was not caught mid-way: {_events(root)}"
    before = _events(root)
    done_before = sorted(k for k, v in before.items() if 'done' in v)
    st = status(plan(cfg, out))
    assert set(st.state) <= {'done', 'interrupted', 'new'} and 'interrupted' in set(st.state), st[['job', 'state']]
    assert sorted(st[st.state == 'done'].job) == done_before
    r = subprocess.run(args, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    after = _events(root)
    assert len(after) == 4 and all(v.count('done') == 1 for v in after.values()), after
    for k in done_before: assert after[k] == ['start', 'done'], k             # done jobs are not run again
    for k in set(after) - set(done_before): assert after[k][-2:] == ['start', 'done'], after[k]
    for job in root.glob('train-*'):
        table = pd.read_parquet(job/'result-0.parquet')
        assert list(table.Epoch) == [0, 1, 2, 3], (job.name, list(table.Epoch))   # resumed, not restarted or duplicated
        assert (job/'job.ipynb').exists()
    st = status(plan(cfg, out))
    assert set(st.state) == {'done'} and all(Path(l).exists() for l in st.log)
    r = subprocess.run([STATUS, '-c', str(cfg), '-o', str(out)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.count(' done ') >= 4 and '.submitit' in r.stdout

@needs_data
def test_a_failed_job_does_not_stop_the_others_and_status_shows_its_traceback_and_log(tmp_path):
    cfg, out = tmp_path/'f.yml', tmp_path/'exp'
    cfg.write_text(SWEEP.replace('epochs: 3', 'epochs: 1').replace('chunk: job', 'chunk: gap'))
    p = plan(cfg, out)
    folders = write_jobs(p, pretrained=False)
    broken = folders[2]/'config.yml'
    broken.write_text(broken.read_text().replace('optimizer', 'optimiser') if 'optimizer' in broken.read_text()
                      else broken.read_text().replace('train_config:', 'train_config:\n  epochz: 1', 1))
    states = launch(p, pretrained=False, progress=False)
    assert states.state.tolist().count('failed') == 1 and states.state.tolist().count('done') == 3
    r = subprocess.run([STATUS, '-c', str(cfg), '-o', str(out)], capture_output=True, text=True)
    assert r.returncode == 1                                                 # a failed job: scripts and CI notice
    assert f"== {folders[2].name} failed: ConfigError" in r.stdout and 'epochz' in r.stdout and 'Traceback' in r.stdout
    log = r.stdout.split(f"== {folders[2].name} failed")[1].split('log: ')[1].split()[0]
    assert Path(log).exists() and '.submitit' in log
    fixed = broken.read_text().replace('  epochz: 1\n', '')
    broken.write_text(fixed)
    states = launch(plan(cfg, out), pretrained=False, progress=False)        # the failed job is retried, the rest skipped
    assert states.folder.tolist() == [str(folders[2])] and states.state.tolist() == ['done']

def test_slurm_submits_one_job_array_per_sweep_with_the_resources_asked(tmp_path):
    from submitit.slurm.test_slurm import mocked_slurm
    import cloudpickle
    cfg = tmp_path/'s.yml'
    cfg.write_text(SWEEP.replace('stitchers: [', 'stitchers: [bottleneck_no_downsample, ').replace('chunk: job', 'chunk: gap'))
    p = plan(cfg, tmp_path/'exp')
    write_jobs(p, pretrained=False)
    slurm = dict(partition='gpu', gpus=1, cpus=8, mem='32G', time=90, array_parallelism=3, account='vision',
                 extra={'constraint': 'a100'}, setup=['source ~/venv/bin/activate'])
    with mocked_slurm() as mock:
        states = launch(p, executor='slurm', slurm=slurm, pretrained=False, chunk='job', progress=False)
        from stitchbook.jobs import write_status
        write_status(p.folder[2], 'running', host='node7', pid=4242)           # as the task does when it starts on a node
        running = status(p)
        mock.set_job_state('12', 'CANCELLED by 1000', array=5)              # e.g. scancel, or a node failure
        cancelled = status(p)
        again = launch(plan(cfg, tmp_path/'exp'), executor='slurm', slurm=slurm, pretrained=False, chunk='job', progress=False)
    assert running.state.tolist() == ['queued', 'queued', 'running', 'queued', 'queued'] and set(running.slurm) == {'RUNNING'}   # a relaunch leaves them alone
    assert set(cancelled.state) == {'interrupted'} and set(cancelled.slurm) == {'CANCELLED by 1000'}
    assert len(again) == 5 and json.loads((Path(p.folder[1])/'status.json').read_text())['job_id'] == '13_1'   # resubmitted
    subs = sorted((tmp_path/'exp').rglob('*_submission.sh'))
    assert [f.name for f in subs] == ['12_submission.sh', '13_submission.sh']  # one array per launch of the sweep
    sbatch = subs[0].read_text()
    for line in ['#SBATCH --array=0-4%3', '#SBATCH --partition=gpu', '#SBATCH --gpus-per-node=1', '#SBATCH --cpus-per-task=8',
                 '#SBATCH --mem=32G', '#SBATCH --time=90', '#SBATCH --account=vision', '#SBATCH --constraint=a100',
                 '#SBATCH --job-name=stitchbook-s', '#SBATCH --signal=USR2@120', 'source ~/venv/bin/activate']:
        assert line in sbatch, (line, sbatch)
    pickles = sorted(subs[0].parent.parent.glob('12_*/*_submitted.pkl'), key=lambda f: int(f.name.split('_')[1]))
    assert len(pickles) == 5
    calls = [cloudpickle.loads(f.read_bytes()) for f in pickles]
    assert [c.args[0] for c in calls] == [[f] for f in p[p.applies].folder]   # task i runs job i
    assert all(c.args[2] is False for c in calls)                             # --no-pretrained travels with the task
    assert type(calls[0].function).__name__ == 'JobTask' and hasattr(calls[0].function, 'checkpoint')   # requeued on preemption
    st = json.loads((Path(p.folder[1])/'status.json').read_text())
    assert st['state'] == 'queued' and st['log'].endswith('13_1_0_log.out')

@needs_data
def test_a_preempted_task_is_requeued_by_submitit_and_its_job_resumes(tmp_path):
    from stitchbook.launch import JobTask, make_executor
    cfg, out = tmp_path/'r.yml', tmp_path/'exp'
    cfg.write_text(SWEEP.replace('epochs: 3', 'epochs: 4'))
    p = plan(cfg, out)
    folder = [Path(f) for f in write_jobs(p, pretrained=False)][1]
    job = make_executor('local', folder.parent, timeout_min=10).submit(JobTask(), [str(folder)], 'one', False, 1)
    t0 = time.time()
    while not (folder/'checkpoint-last.pt').exists() and time.time() - t0 < 120: time.sleep(0.05)
    assert (folder/'checkpoint-last.pt').exists() and not job.done()
    import psutil
    task, = psutil.Process(job._process.pid).children()   # the task under submitit's local controller
    task.send_signal(signal.SIGUSR2)                     # what Slurm, or the controller near its time limit, sends to a task
    assert job.result() == ['done']                      # submitit requeued the task; it finished the job
    assert [a['event'] for a in attempts(folder)] == ['start', 'start', 'done']
    assert list(pd.read_parquet(folder/'result-0.parquet').Epoch) == [0, 1, 2, 3, 4]
    assert 'Requeued' in Path(job.paths.stderr).read_text() + Path(job.paths.stdout).read_text()

def test_slurm_without_sbatch_is_a_clear_error_before_anything_is_written(tmp_path):
    cfg, out = tmp_path/'s.yml', tmp_path/'exp'
    cfg.write_text(SWEEP)
    r = subprocess.run([EXE, '-c', str(cfg), '-o', str(out), '--executor', 'slurm', '--no-pretrained'], capture_output=True, text=True,
                       env={**os.environ, 'PATH': str(Path(sys.executable).parent)})
    assert r.returncode == 2 and 'needs `sbatch` on the PATH' in r.stderr and 'Traceback' not in r.stderr
    assert not out.exists()
