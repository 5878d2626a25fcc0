"""Job set-up inside a sweep's worker: seconds per job to build the model and its data, with networks loaded and
traced once per process (the default) against loaded and traced again for every job (as before).

The jobs are those of one gap of the main job's cross-architecture sweep (`configs/embedded/resnet-vit.yml`: the
zoo's ResNet into the zoo's ViT, with its default stitchers), planned into a temporary folder and set up with
`stitchbook.job.prepare`, one after another in this process, as a worker's kernel runs them. `fresh` empties the
per-process network store (`models._LOADED`) and the shared traces (`cut._SHARED`) before each job; the activation
cache's store is kept in both, as it was before. The variants alternate job by job, so the machine's load falls on
both alike. Needs the zoo's weights in data/zoo (`stitch-zoo`); with `--no-pretrained` the networks are random, and
only tracing is shared.

    .venv/bin/python bench/job_setup.py [--gap 1] [--repeats 2] [--no-pretrained]
"""
import argparse, os, statistics, tempfile, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import torch
from stitchbook import cut, models
from stitchbook.config import load_config
from stitchbook.job import prepare
from stitchbook.sweep import plan, write_jobs

ROOT = Path(__file__).resolve().parents[1]

def gap_jobs(gap:int, pretrained:bool)->list:
    "The job configs of gap number `gap` (from 0) of the cross-architecture sweep."
    out = Path(tempfile.mkdtemp())
    p = plan(ROOT/'configs'/'embedded'/'resnet-vit.yml', root=out, base_only=True)   # one seed
    p = p[(p.role == 'stitch') & p.applies]
    span = list(zip(p.first_deleted_block, p.last_deleted_block))
    rows = p[[s == list(dict.fromkeys(span))[gap] for s in span]]
    folders = write_jobs(rows, pretrained=None if pretrained else False)
    return [(f, load_config(f/'config.yml')) for f in folders]

def set_up(folder:Path, cfg:dict, fresh:bool)->float:
    "Seconds `prepare` takes for one job; `fresh` forgets the networks and traces of earlier jobs first."
    if fresh: models._LOADED.clear(); cut._SHARED.clear()
    start = time.perf_counter()
    run = prepare(cfg, folder, progress=False)
    seconds = time.perf_counter() - start
    for loader in (run.train, run.test, run.val):
        if getattr(loader, 'cache', None) is not None: loader.cache.close()
    return seconds

def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--gap', type=int, default=1, help='which gap of the sweep (from 0)')
    ap.add_argument('--repeats', type=int, default=2, help='passes over the gap\'s jobs')
    ap.add_argument('--no-pretrained', action='store_true', help='random weights (no zoo weights needed)')
    a = ap.parse_args()
    torch.set_num_threads(1)                                   # as in a worker: one thread per worker
    jobs = gap_jobs(a.gap, not a.no_pretrained)
    set_up(*jobs[0], fresh=True)                               # the first job of a worker pays for both alike
    times = {'fresh': [], 'shared': []}
    for _ in range(a.repeats):
        for folder, cfg in jobs:
            for variant in ('fresh', 'shared'):
                times[variant].append(set_up(folder, load_config(folder/'config.yml'), variant == 'fresh'))
    fresh, shared = (statistics.median(times[v]) for v in ('fresh', 'shared'))
    print(f"{len(jobs)} jobs of gap {a.gap}, {a.repeats} passes, seconds per job to set up (median):")
    print(f"  loaded and traced per job: {fresh:.3f} s")
    print(f"  once per process:          {shared:.3f} s")
    print(f"  ratio: {fresh / shared:.2f}x")

if __name__ == '__main__': main()
