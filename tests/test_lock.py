"One process per job folder: the lock itself, two launchers on one root, and a relaunch right after `kill -9`."
import os, signal, subprocess, sys, time
import psutil, pytest
import stitchbook.files
from stitchbook.files import job_lock
from shared import SWEEP_EXE, attempt_events, fmnist_sweep, needs_fmnist

needs_data = needs_fmnist()
HOLD = """import importlib.util, sys
spec = importlib.util.spec_from_file_location('files', sys.argv[2])    # the module alone, without the package's torch
files = importlib.util.module_from_spec(spec); spec.loader.exec_module(files)
with files.job_lock(sys.argv[1]) as mine: print(mine, flush=True); input()"""

def _holder(folder):
    "A process that tries `folder`'s lock, prints whether it got it, and keeps it until its stdin gets a line."
    return subprocess.Popen([sys.executable, '-c', HOLD, str(folder), stitchbook.files.__file__], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)

def test_a_second_process_finds_the_lock_held_until_the_holder_ends_even_by_kill_9(tmp_path):
    with job_lock(tmp_path) as mine:
        other = _holder(tmp_path)
        assert mine and other.stdout.readline() == 'False\n'       # held here: the other process is refused at once
        other.communicate('\n')
    holder = _holder(tmp_path)
    assert holder.stdout.readline() == 'True\n'
    with job_lock(tmp_path) as mine: assert not mine
    holder.kill(); holder.wait()                                    # kill -9 leaves no stale lock
    with job_lock(tmp_path) as mine: assert mine

def _events(root)->dict:
    "Each job's history: `[(event, pid, time)]` from its `attempts.jsonl`."
    return {name: [(e['event'], e['pid'], e['time']) for e in events] for name, events in attempt_events(root).items()}

def _sweep(tmp_path, chunk:str)->tuple:
    cfg, out = tmp_path/'s.yml', tmp_path/'exp'
    cfg.write_text(fmnist_sweep(['linear_no_downsample', 'downsample_then_linear', 'downsample_then_3x3conv'],
                                chunk=chunk, subset=1000, test_subset=300, epochs=2))
    return [SWEEP_EXE, '-c', str(cfg), '-o', str(out), '--no-pretrained'], out/'across-scales'/'s'

def _alive(pids)->set:
    "The processes of `pids` that still run (a zombie, ended but not reaped, does not)."
    def runs(p):
        try: return psutil.Process(p).status() != psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess: return False
    return {p for p in pids if runs(p)}

def _kill(pids):
    for p in _alive(pids):
        try: os.kill(p, signal.SIGKILL)
        except ProcessLookupError: pass

@needs_data
def test_two_launchers_on_one_root_train_each_job_once(tmp_path):
    args, root = _sweep(tmp_path, 'job')
    launchers = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  start_new_session=True) for _ in range(2)]
    try: outs = [l.communicate(timeout=900)[0] for l in launchers]
    finally:
        for l in launchers:
            if l.poll() is None: os.killpg(l.pid, signal.SIGKILL)
    assert [l.returncode for l in launchers] == [0, 0], outs
    ev = _events(root)
    assert len(ev) == 4 and all([e[0] for e in v] == ['start', 'done'] for v in ev.values()), ev

@needs_data
def test_a_killed_launcher_takes_its_tasks_and_kernel_with_it_and_a_relaunch_trains_no_job_twice(tmp_path):
    args, root = _sweep(tmp_path, 'gap')                 # one task trains the gap's three stitches, one after another
    proc = subprocess.Popen(args, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ours, ev, t0 = set(), {}, time.time()
    try:
        while time.time() - t0 < 300 and proc.poll() is None:      # kill while the first stitch trains
            ev = _events(root)
            if any(k.startswith('train-') and [e[0] for e in v] == ['start'] for k, v in ev.items()): break
            time.sleep(0.05)
        ours = {c.pid for c in psutil.Process(proc.pid).children(recursive=True)}   # controller, task, kernel
        kernel = [v[0][1] for k, v in ev.items() if k.startswith('train-') and len(v) == 1]   # the training kernel
        killed = time.time()
        proc.kill(); proc.wait()                                     # kill -9 of the launcher alone
        t1 = time.time()
        while _alive(ours) and time.time() - t1 < 10: time.sleep(0.05)
        left = _alive(ours)
    finally:
        _kill(ours)
        try: os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError: pass
    assert kernel, f"the sweep was not caught while a stitch trained: {ev}"
    assert set(kernel) <= ours and not left, f"still running after the launcher was killed: {left} (kernel {kernel})"
    before = _events(root)
    r = subprocess.run(args, capture_output=True, text=True, timeout=900)     # relaunch at once
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    after = _events(root)
    assert len(after) == 4 and all([e[0] for e in v].count('done') == 1 for v in after.values()), after
    late = {k: [e for e in v if e[1] in ours and e[2] > killed] for k, v in after.items()}
    assert not any(late.values()), f"the old task went on after its launcher died: {late}"
    for k, v in after.items():                                      # every start after the kill is the relaunch's
        old = before.get(k, [])
        assert v[:len(old)] == old and all(e[1] not in ours for e in v[len(old):]), (k, old, v)
