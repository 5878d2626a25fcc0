"""Job overhead of `stitch-sweep`: seconds per job outside training, through the real command line.

A sweep of the main job's shape (the zoo's ResNet with random weights, 4 gaps x the default stitchers, and the
parent) whose jobs barely train (one batch of one epoch on a 256-image subset), so what a job costs is what the
launcher, the tasks, papermill and `train_job`'s set-up cost. Each variant runs in a fresh folder, interleaved:

- `gap`: the default (local workers, each running its jobs' notebooks on one kernel);
- `job`: `--chunk job`, a submitit task, a kernel and its imports per job;
- `debug`: `--executor debug`, every job in the launcher's process, no task and no notebook (the floor);
- `old`: with `--old DIR`, the default of another checkout's package (e.g. `git archive HEAD stitchbook | tar -x -C
  DIR`): compare before and after a change, side by side.

    .venv/bin/python bench/launch_overhead.py [--parallel 1] [--repeats 2] [--old DIR]
"""
import argparse, os, shutil, subprocess, sys, tempfile, time
from pathlib import Path

SWEEP = """
arch: fmnist_resnet
gaps:
  - {blocks_to_drop: [2, 2], num_downsamples: 1}
  - {blocks_to_drop: [2, 3], num_downsamples: 1}
  - {blocks_to_drop: [3, 3], num_downsamples: 1}
  - {blocks_to_drop: [3, 4], num_downsamples: 1}
stitchers: [finetune, linear_no_downsample, linear_relu_no_downsample, bottleneck_no_downsample, downsample_then_linear,
            downsample_then_linear_relu, downsample_then_3x3conv, downsample_then_bottleneck, conv3x3_with_downsample,
            bottleneck_with_downsample]
train_config:
  dataset: fashion-mnist
  data_preprocessing: {image_size: 32, subset: 256, test_subset: 256}
  batch_size: 128
  epochs: 1
  max_batches: 1
"""
RUNNER = ("try: from stitchbook.cli import stitch_sweep\n"                  # the command line, old and new alike
          "except ImportError: from stitchbook.launch import stitch_sweep\nstitch_sweep()\n")

def run(variant:str, cfg:Path, parallel:int, old:str|None)->tuple:
    "Wall seconds of one launch of `variant` in a fresh folder, and the number of jobs it ran."
    out = Path(tempfile.mkdtemp())
    args = [sys.executable, str(cfg.with_name('run.py')), '-c', str(cfg), '-o', str(out), '--no-pretrained',
            '--parallel', str(parallel), '--threads', '1']
    args += {'job': ['--chunk', 'job'], 'debug': ['--executor', 'debug']}.get(variant, [])
    env = {**os.environ, 'HF_HUB_OFFLINE': '1'}
    if variant == 'old': env['PYTHONPATH'] = old            # the launcher, its tasks and their kernels import it
    try:
        t0 = time.time()
        r = subprocess.run(args, capture_output=True, text=True, env=env)
        secs = time.time() - t0
        assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
        return secs, len(list(out.rglob('attempts.jsonl')))
    finally: shutil.rmtree(out)

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--parallel', type=int, default=1)
    ap.add_argument('--repeats', type=int, default=2)
    ap.add_argument('--old', help="a folder holding another checkout's `stitchbook` package")
    ap.add_argument('--variants', default='gap,job,debug,old', help="which to run, of gap, job, debug and old")
    a = ap.parse_args()
    cfg = Path(tempfile.mkdtemp())/'overhead.yml'
    cfg.write_text(SWEEP); cfg.with_name('run.py').write_text(RUNNER)
    variants = [v for v in a.variants.split(',') if v != 'old' or a.old]
    best = {}
    for _ in range(a.repeats):
        for v in variants:
            secs, n = run(v, cfg, a.parallel, a.old)
            best[v] = min(best.get(v, (secs, n)), (secs, n))
            print(f"{v}: {secs:.1f} s (load average {os.getloadavg()[0]:.1f})", flush=True)
    n = next(iter(best.values()))[1]
    print(f"{n} jobs, {a.parallel} task(s) at a time, 1 thread each, best of {a.repeats} (load average now "
          f"{os.getloadavg()[0]:.1f}):")
    for v, (secs, n) in best.items():
        print(f"  {v:>5}: {secs:6.1f} s wall, {secs * a.parallel / n:5.2f} s per job (x {a.parallel} task(s))"
              + (f", {best['old'][0] / secs:.2f}x old" if 'old' in best and v != 'old' else ''))

if __name__ == '__main__': main()
