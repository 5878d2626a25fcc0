"""(e) Peak memory of every similarity measure streamed over 50,000 examples of 4,096 features against 4,096
(`stitchbook.similarity.Similarity`, float64 sums), against the memory the all-at-once functions would need for the
same data. Goal: peak RSS growth under 1 GiB. The data is made batch by batch, so it is never held whole.

    .venv/bin/python bench/similarity_memory.py
"""
import resource, time
import torch
from stitchbook.similarity import Similarity

N, F, BATCH = 50_000, 4_096, 1_000
GIB = 2 ** 30

def peak_rss()->int: return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024   # bytes (Linux: KiB)

def batch(i:int)->tuple:
    "Batch `i` of two related representations: `y` is a noisy, bent copy of `x`."
    g = torch.Generator().manual_seed(i)
    x = torch.randn(BATCH, F, generator=g)
    return x, torch.tanh(x + 0.5 * torch.randn(BATCH, F, generator=g))

Similarity().update(*(t[:50, :64] for t in batch(0))).result()      # load the linear algebra before the baseline
base, t0, cpu0 = peak_rss(), time.time(), time.process_time()
sim = Similarity()
for i in range(N // BATCH): sim.update(*batch(i))
values = sim.result()
secs, cpu, grown = time.time() - t0, time.process_time() - cpu0, peak_rss() - base
at_once = 2 * N * F * 8 + 2 * N * N * 8        # x and y in float64, and their two n x n Gram matrices
print(f"{N:,} examples x {F:,} features, {len(values)} measures, streamed in batches of {BATCH:,}: {secs:.0f} s "
      f"({cpu:.0f} s of CPU)")
print(f"peak RSS growth {grown / GIB:.2f} GiB (goal < 1 GiB); all at once would need >= {at_once / GIB:.1f} GiB "
      f"(the data in float64 and two {N:,}^2 Gram matrices): {at_once / grown:.0f}x less memory streamed")
print(', '.join(f"{k} {v:.4f}" for k, v in values.items()))
