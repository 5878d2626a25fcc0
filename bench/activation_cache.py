"""(b) Epoch time with the activation cache against without, for a linear adapter on a 4-stage zoo model
(fmnist_resnet) cut in stage 2, on the full 60,000 training images. Goal: >= 5x faster.

    .venv/bin/python bench/activation_cache.py
"""
import time
from common import same_arch_linear, prepare, apply_overrides
from stitchbook.train import train_epoch

from common import CUTS

def epoch_seconds(model:str, cache:bool):
    t0 = time.time()
    run = prepare(apply_overrides(same_arch_linear(model), device='cpu'), '/tmp', progress=False, activation_cache=cache)
    built = time.time() - t0
    return train_epoch(run)['seconds'], built

for model in CUTS:
    times = {True: [], False: []}
    for _ in range(2):                               # interleaved
        for cache in (True, False): times[cache].append(epoch_seconds(model, cache))
    (on, on_build), (off, off_build) = min(times[True]), min(times[False])
    print(f"{model}: epoch with cache {on:.2f} s (set-up incl. cache {on_build:.1f} s), without {off:.2f} s "
          f"(set-up {off_build:.1f} s): {off / on:.1f}x per epoch (goal >= 5x); over 5 epochs with set-up: "
          f"{(5 * off + off_build) / (5 * on + on_build):.1f}x")
