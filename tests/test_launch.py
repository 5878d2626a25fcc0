"""Launching sweeps: a local sweep killed mid-way and re-run runs every job exactly once; a failure stays with its job;
Slurm submission without a cluster; `--force` and `--force-changed`."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd
import pytest
from stitchbook.jobs import attempts
from stitchbook.launch import launch, status
from stitchbook.sweep import plan, write_jobs
from shared import SWEEP_EXE, STATUS_EXE, attempt_events, fmnist_sweep, needs_fmnist

STITCHERS = ['linear_no_downsample', 'downsample_then_linear', 'downsample_then_3x3conv']
SWEEP = fmnist_sweep(STITCHERS)
needs_data = needs_fmnist()

def _events(root):
    return {name: [e['event'] for e in events] for name, events in attempt_events(root).items()}

@needs_data
def test_local_sweep_killed_midway_then_rerun_runs_each_job_exactly_once(tmp_path):
    cfg, out = tmp_path/'k.yml', tmp_path/'exp'
    cfg.write_text(SWEEP)
    root = out/'across-scales'/'k'
    args = [SWEEP_EXE, '-c', str(cfg), '-o', str(out), '--no-pretrained']
    proc = subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0, killed_mid_training = time.time(), False
    try:
        while time.time() - t0 < 240 and proc.poll() is None:      # kill once a stitch is done and the next trains
            ev = _events(root)
            done = [k for k, v in ev.items() if 'done' in v and k.startswith('train-')]
            busy = [k for k, v in ev.items() if v == ['start'] and (root/k/'checkpoint-last.pt').exists()]
            if done and busy: killed_mid_training = True; break
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)             # the launcher and submitit's processes: one process group
        for f in root.glob('*/status.json'):            # and the notebook kernels, in sessions of their own
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
    r = subprocess.run([STATUS_EXE, '-c', str(cfg), '-o', str(out)], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.count(' done ') >= 4 and '.submitit' in r.stdout

@needs_data
def test_a_failed_job_does_not_stop_the_others_and_status_shows_its_traceback_and_log(tmp_path):
    cfg, out = tmp_path/'f.yml', tmp_path/'exp'
    cfg.write_text(fmnist_sweep(STITCHERS, epochs=1, chunk='gap'))
    p = plan(cfg, out)
    folders = write_jobs(p, pretrained=False)
    broken = folders[2]/'config.yml'
    broken.write_text(broken.read_text().replace('optimizer', 'optimiser') if 'optimizer' in broken.read_text()
                      else broken.read_text().replace('train_config:', 'train_config:\n  epochz: 1', 1))
    states = launch(p, pretrained=False, parallel=1, progress=False)
    assert states.state.tolist().count('failed') == 1 and states.state.tolist().count('done') == 3
    kernels = {json.loads((f/'status.json').read_text())['pid'] for f in folders}
    assert len(kernels) == 1 and os.getpid() not in kernels                 # parallel 1: one worker, one kernel
    for f in folders:                                                       # each job its own executed notebook
        assert f'folders = ["{f.resolve()}"]' in (f/'job.ipynb').read_text().replace('\\"', '"')
    r = subprocess.run([STATUS_EXE, '-c', str(cfg), '-o', str(out)], capture_output=True, text=True)
    assert r.returncode == 1                                                 # a failed job: scripts and CI notice
    assert f"== {folders[2].name} failed: ConfigError" in r.stdout and 'epochz' in r.stdout and 'Traceback' in r.stdout
    log = r.stdout.split(f"== {folders[2].name} failed")[1].split('log: ')[1].split()[0]
    assert Path(log).exists() and '.submitit' in log
    fixed = broken.read_text().replace('  epochz: 1\n', '')
    broken.write_text(fixed)
    states = launch(plan(cfg, out), pretrained=False, progress=False)        # the failed job is retried, no other
    assert states.folder.tolist() == [str(folders[2])] and states.state.tolist() == ['done']

def test_slurm_submits_one_job_array_per_sweep_with_the_resources_asked(tmp_path):
    from submitit.slurm.test_slurm import mocked_slurm
    import cloudpickle
    cfg = tmp_path/'s.yml'
    cfg.write_text(fmnist_sweep(['bottleneck_no_downsample', *STITCHERS], chunk='gap'))
    p = plan(cfg, tmp_path/'exp')
    write_jobs(p, pretrained=False)
    slurm = dict(partition='gpu', gpus=1, cpus=8, mem='32G', time=90, array_parallelism=3, account='vision',
                 extra={'constraint': 'a100'}, setup=['source ~/venv/bin/activate'])
    with mocked_slurm() as mock:
        states = launch(p, executor='slurm', slurm=slurm, pretrained=False, chunk='job', progress=False)
        from stitchbook.jobs import write_status
        write_status(p.folder[2], 'running', host='node7', pid=4242)           # as a task starting on a node does
        running = status(p)
        mock.set_job_state('12', 'CANCELLED by 1000', array=5)              # e.g. scancel, or a node failure
        cancelled = status(p)
        again = launch(plan(cfg, tmp_path/'exp'), executor='slurm', slurm=slurm, pretrained=False, chunk='job',
                       progress=False)
    assert running.state.tolist() == ['queued', 'queued', 'running', 'queued', 'queued']   # a relaunch leaves them
    assert set(running.slurm) == {'RUNNING'}
    assert set(cancelled.state) == {'interrupted'} and set(cancelled.slurm) == {'CANCELLED by 1000'}
    assert len(again) == 5                                                    # resubmitted
    assert json.loads((Path(p.folder[1])/'status.json').read_text())['job_id'] == '13_1'
    subs = sorted((tmp_path/'exp').rglob('*_submission.sh'))
    assert [f.name for f in subs] == ['12_submission.sh', '13_submission.sh']  # one array per launch of the sweep
    sbatch = subs[0].read_text()
    for line in ['#SBATCH --array=0-4%3', '#SBATCH --partition=gpu', '#SBATCH --gpus-per-node=1',
                 '#SBATCH --cpus-per-task=8',
                 '#SBATCH --mem=32G', '#SBATCH --time=90', '#SBATCH --account=vision', '#SBATCH --constraint=a100',
                 '#SBATCH --job-name=stitchbook-s', '#SBATCH --signal=USR2@120', 'source ~/venv/bin/activate']:
        assert line in sbatch, (line, sbatch)
    pickles = sorted(subs[0].parent.parent.glob('12_*/*_submitted.pkl'), key=lambda f: int(f.name.split('_')[1]))
    assert len(pickles) == 5
    calls = [cloudpickle.loads(f.read_bytes()) for f in pickles]
    assert [c.args[0] for c in calls] == [[f] for f in p[p.applies].folder]   # task i runs job i
    assert all(c.args[2] is False for c in calls)                             # --no-pretrained travels with the task
    assert type(calls[0].function).__name__ == 'JobTask' and hasattr(calls[0].function, 'checkpoint')   # requeued
    st = json.loads((Path(p.folder[1])/'status.json').read_text())
    assert st['state'] == 'queued' and st['log'].endswith('13_1_0_log.out')

@needs_data
def test_a_preempted_task_is_requeued_by_submitit_and_its_job_resumes(tmp_path):
    from stitchbook.launch import make_executor
    from stitchbook.worker import JobTask
    cfg, out = tmp_path/'r.yml', tmp_path/'exp'
    cfg.write_text(fmnist_sweep(STITCHERS, epochs=4))
    p = plan(cfg, out)
    folder = [Path(f) for f in write_jobs(p, pretrained=False)][1]
    job = make_executor('local', folder.parent, timeout_min=10).submit(JobTask(), [str(folder)], 'one', False, 1)
    t0 = time.time()
    while not (folder/'checkpoint-last.pt').exists() and time.time() - t0 < 120: time.sleep(0.05)
    assert (folder/'checkpoint-last.pt').exists() and not job.done()
    import psutil
    task, = psutil.Process(job._process.pid).children()   # the task under submitit's local controller
    task.send_signal(signal.SIGUSR2)                     # what Slurm, or the controller near its time limit, sends
    assert job.result() == ['done']                      # submitit requeued the task; it finished the job
    assert [a['event'] for a in attempts(folder)] == ['start', 'start', 'done']
    assert list(pd.read_parquet(folder/'result-0.parquet').Epoch) == [0, 1, 2, 3, 4]
    assert 'Requeued' in Path(job.paths.stderr).read_text() + Path(job.paths.stdout).read_text()

def test_slurm_without_sbatch_is_a_clear_error_before_anything_is_written(tmp_path):
    cfg, out = tmp_path/'s.yml', tmp_path/'exp'
    cfg.write_text(SWEEP)
    r = subprocess.run([SWEEP_EXE, '-c', str(cfg), '-o', str(out), '--executor', 'slurm', '--no-pretrained'],
                       capture_output=True, text=True,
                       env={**os.environ, 'PATH': str(Path(sys.executable).parent)})
    assert r.returncode == 2 and 'needs `sbatch` on the PATH' in r.stderr and 'Traceback' not in r.stderr
    assert not out.exists()

def test_force_cancels_the_slurm_tasks_still_queued_before_it_resubmits(tmp_path):
    from submitit.slurm.test_slurm import mocked_slurm
    cfg = tmp_path/'s.yml'
    cfg.write_text(fmnist_sweep(STITCHERS, chunk='gap'))
    p = plan(cfg, tmp_path/'exp')
    write_jobs(p, pretrained=False)
    calls = []
    with mocked_slurm() as mock:
        sbatch, scancel = mock.sbatch, mock.scancel
        mock.sbatch = lambda args: calls.append(['sbatch']) or sbatch(args)
        mock.scancel = lambda args: calls.append(['scancel', *args]) or scancel(args)
        launch(p, executor='slurm', pretrained=False, progress=False)              # array 12: the parent, the gap
        old = {json.loads((Path(f)/'status.json').read_text())['job_id'] for f in p.folder}
        launch(plan(cfg, tmp_path/'exp'), executor='slurm', pretrained=False, progress=False)   # queued: left alone
        launch(plan(cfg, tmp_path/'exp'), executor='slurm', pretrained=False, force=True, progress=False)
    assert old == {'12_0', '12_1'}
    assert calls == [['sbatch'], ['scancel', '12_0', '12_1'], ['sbatch']]         # cancelled, then resubmitted
    assert {json.loads((Path(f)/'status.json').read_text())['job_id'] for f in p.folder} == {'13_0', '13_1'}

@needs_data
def test_force_changed_reruns_only_the_jobs_whose_config_changed_and_keeps_their_history(tmp_path):
    cfg, out = tmp_path/'c.yml', tmp_path/'exp'
    cfg.write_text(fmnist_sweep(STITCHERS, epochs=1, subset=300, test_subset=200))
    run = lambda *a: subprocess.run([SWEEP_EXE, '-c', str(cfg), '-o', str(out), '--no-pretrained',
                                     '--executor', 'debug', *a],
                                    capture_output=True, text=True)
    r = run()
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    root = out/'across-scales'/'c'
    jobs_ = sorted(root.glob('*-adapter-*')) + sorted(root.glob('parent-*'))
    changed, neutral = jobs_[0], jobs_[1]
    ran = (changed/'config.yml').read_text()
    (changed/'config.yml').write_text(ran.replace('epochs: 1', 'epochs: 2'))     # as if it ran with an older config
    (neutral/'config.yml').write_text((neutral/'config.yml').read_text() + 'workers: 0\n')  # no effect on results
    r = run()
    assert r.returncode == 2 and 'different config' in r.stderr                  # plain relaunch: refused, nothing run
    assert all([e['event'] for e in attempts(j)] == ['start', 'done'] for j in jobs_)
    r = run('--force-changed')
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert '1 job(s) ran with another config' in r.stdout
    assert [e['event'] for e in attempts(changed)] == ['start', 'done', 'cleared', 'start', 'done']
    assert all([e['event'] for e in attempts(j)] == ['start', 'done'] for j in jobs_ if j != changed)
    assert (changed/'config.yml').read_text() == ran and 'workers' not in (neutral/'config.yml').read_text()
    assert list(pd.read_parquet(changed/'result-0.parquet').Epoch) == [0, 1]
    assert 'every job is done already' in run('--force-changed').stdout

@needs_data
def test_a_kernel_that_dies_fails_only_its_job_and_the_task_goes_on_on_a_new_kernel(tmp_path):
    cfg, out = tmp_path/'d.yml', tmp_path/'exp'
    cfg.write_text(fmnist_sweep(STITCHERS, chunk='gap'))
    p = plan(cfg, out)
    folders = [Path(f) for f in write_jobs(p, pretrained=False)]
    import threading
    killed = []
    def kill_first_training_kernel():                 # once a stitch has a checkpoint, kill the kernel training it
        t0 = time.time()
        while time.time() - t0 < 300 and not killed:
            for f in folders[1:]:
                s = json.loads((f/'status.json').read_text()) if (f/'status.json').exists() else {}
                if s.get('state') == 'running' and (f/'checkpoint-last.pt').exists():
                    os.kill(s['pid'], signal.SIGKILL); killed.append((f, s['pid'])); break
            time.sleep(0.05)
    watcher = threading.Thread(target=kill_first_training_kernel); watcher.start()
    states = launch(p, pretrained=False, progress=False)
    watcher.join()
    assert killed, "no job was caught training"
    pid = killed[0][1]
    st = dict(zip(states.folder, states.state))
    failed = [Path(f) for f, s in st.items() if s == 'failed']      # the job that kernel ran when it died: the one
    assert len(failed) == 1 and list(st.values()).count('done') == 3, st   # seen, or the next if that one just ended
    victim = failed[0]
    status_ = json.loads((victim/'status.json').read_text())
    assert 'the job notebook' in status_['error'] and (victim/'job.ipynb').exists()
    later = [f for f in folders[1:] if json.loads((f/'status.json').read_text())['pid'] != pid]
    assert later and all(st[str(f)] == 'done' for f in later)                # ran on a new kernel, in the same task
    again = launch(plan(cfg, out), pretrained=False, progress=False)            # the failed job resumes and finishes
    assert again.folder.tolist() == [str(victim)] and again.state.tolist() == ['done']
    assert [e['event'] for e in attempts(victim)] == ['start', 'failed', 'start', 'done']
    assert list(pd.read_parquet(victim/'result-0.parquet').Epoch) == [0, 1, 2, 3]
