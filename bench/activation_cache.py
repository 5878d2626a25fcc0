"""(b) Epoch time with the activation cache against without, for a linear 1x1 adapter stitching a zoo network to
itself (fmnist_resnet, fmnist_convnext) at every cut between two of its stages, on a seeded subset of the training
images. Goal: >= 5x faster. Each pair is measured interleaved in one run, after a warm-up epoch each (the median of
`--rounds` epochs each).

The cache removes the frozen bottom's forward (and the image loading) from every epoch after it is built; it cannot
remove the adapter and the top's forward and backward, which the loss needs. So the profile of the uncached epoch
(data, prefix, adapter, top forward, top backward, step; timed phase by phase, which adds a little to each step)
predicts the ratio: about 1 / (the share the cache leaves).

    .venv/bin/python bench/activation_cache.py [--subset 10000] [--rounds 2]
"""
import argparse, statistics, tempfile
from common import same_arch_linear, prepare, apply_overrides, stage_cuts, CUTS
from reference_config import profile
from stitchbook.train import train_epoch

def build(model:str, cut, subset:int, cache:bool, folder:str):
    "The job, prepared as stitch-train prepares it, with or without the cache."
    cfg = apply_overrides(same_arch_linear(model, cut=cut), device='cpu')
    cfg['train_config']['data_preprocessing'].update(subset=subset, test_subset=1000)
    return prepare(cfg, folder, progress=False, activation_cache=cache)

def epoch_seconds(run)->float:
    "Seconds of one `train_epoch` from the first batch (the loader rewound)."
    run.train.load_state_dict({'epoch': 0, 'next_batch': 0})
    return train_epoch(run)['seconds']

def shares(run)->dict:
    "Share of each phase of an uncached epoch, from `reference_config.profile`'s timers."
    secs = profile(run, (run.prefix, run.rest))
    run.train.load_state_dict({'epoch': 0, 'next_batch': 0})
    return {k: v / sum(secs.values()) for k, v in secs.items()}

def bench(model:str, name:str, cut, subset:int, rounds:int):
    with tempfile.TemporaryDirectory() as on_dir, tempfile.TemporaryDirectory() as off_dir:
        runs = {True: build(model, cut, subset, True, on_dir), False: build(model, cut, subset, False, off_dir)}
        assert runs[True].cached and not runs[False].cached
        times = {True: [], False: []}
        for cache in (True, False): epoch_seconds(runs[cache])      # warm-up: first-call costs are not an epoch's
        for _ in range(rounds):                                      # interleaved
            for cache in (True, False): times[cache].append(epoch_seconds(runs[cache]))
        on, off = statistics.median(times[True]), statistics.median(times[False])
        p = shares(runs[False])
    left = 1 - p['data'] - p['prefix']                               # what the cache cannot remove
    print(f"{model:16s} {name:20s} with {on:6.2f} s  without {off:6.2f} s  {off / on:4.1f}x  | uncached epoch: "
          f"data {p['data']:4.0%}, prefix {p['prefix']:4.0%}, adapter + top fwd/bwd + step {left:4.0%} "
          f"-> the profile predicts ~{1 / left:.1f}x")

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--subset', type=int, default=10_000, help="training images per epoch")
    ap.add_argument('--rounds', type=int, default=2, help="interleaved epochs per path (the median is printed)")
    ap.add_argument('--models', nargs='+', default=list(CUTS))
    a = ap.parse_args(argv)
    print(f"{a.subset} images per epoch, median of {a.rounds} interleaved epochs per path; goal >= 5x")
    for model in a.models:
        for name, cut in stage_cuts(model).items(): bench(model, name, cut, a.subset, a.rounds)

if __name__ == '__main__': main()
