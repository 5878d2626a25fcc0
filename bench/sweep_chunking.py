"""Wall time of one sweep launched through papermill + submitit's local executor with one task per job
(`chunk: job`) against the default (`chunk: gap`: 2 workers, each running its jobs on one kernel), on the embedded
default: the zoo's ResNet with random weights, 2 gaps x 4 stitchers (8 jobs) and the parent, 1 epoch on a 2,000-image
subset, 2 tasks at a time. Both runs are interleaved twice in fresh folders; the ratio of the best times is printed.

    .venv/bin/python bench/sweep_chunking.py
"""
import shutil, tempfile, time
from pathlib import Path
from stitchbook.sweep import plan, write_jobs
from stitchbook.jobs import attempts
from stitchbook.launch import launch

SWEEP = {'arch': 'fmnist_resnet',
         'gaps': [{'blocks_to_drop': [2, 2], 'num_downsamples': 1}, {'blocks_to_drop': [3, 3], 'num_downsamples': 1}],
         'stitchers': ['linear_no_downsample', 'downsample_then_linear', 'downsample_then_3x3conv',
                       'conv3x3_with_downsample'],
         'train_config': {'dataset': 'fashion-mnist', 'epochs': 1, 'batch_size': 64,
                          'data_preprocessing': {'image_size': 32, 'subset': 2000, 'test_subset': 1000}}}

def wall(chunk:str)->tuple:
    root = Path(tempfile.mkdtemp())
    try:
        p = plan(SWEEP, root, 'bench')
        write_jobs(p, pretrained=False)
        t0 = time.time()
        states = launch(p, chunk=chunk, parallel=2, pretrained=False, progress=False)
        secs = time.time() - t0
        assert set(states.state) == {'done'}, states
        busy = sum(a[-1]['time'] - a[0]['time'] for a in map(attempts, p.folder))     # time inside train_job
        return secs, busy, len(states)
    finally: shutil.rmtree(root)

runs = {'job': [], 'gap': []}
for _ in range(2):
    for chunk in runs: runs[chunk].append(wall(chunk))
(job_s, job_busy, n), (gap_s, gap_busy, _) = min(runs['job']), min(runs['gap'])
print(f"{n} jobs, 2 tasks at a time: one task per job {job_s:.1f} s ({n} tasks), default {gap_s:.1f} s (2 workers): "
      f"{job_s / gap_s:.2f}x faster. Time inside the jobs: {job_busy:.1f} s vs {gap_busy:.1f} s; per-task overhead "
      f"~{(job_s - gap_s) * 2 / (n - 2):.1f} s")
