"""(a) Images/s of stitch-train's training step against a minimal hand-written PyTorch loop, on the same stitched
network and the same batches, measured side by side (interleaved) in one run. Goal: >= 0.95x.

    .venv/bin/python bench/step_throughput.py
"""
import time, torch, torch.nn.functional as F
from common import same_arch_linear, median_rate, prepare, apply_overrides
from stitchbook.train import train_epoch

BATCHES = 60
cfg = apply_overrides(same_arch_linear(max_batches=BATCHES), device='cpu')
run = prepare(cfg, '/tmp', progress=False, activation_cache=False)       # the stitch-train step, without the cache
batches = [run.train.batch(0, b) for b in range(BATCHES)]

def stitchbook_step():
    run.train.load_state_dict({'epoch': 0, 'next_batch': 0})
    return train_epoch(run)['images_per_second']

model = run.model
params = [p for p in model.parameters() if p.requires_grad]
opt = torch.optim.AdamW(params, lr=1e-3)
def minimal_loop():
    "What a user would write: the whole stitched model under autograd, train mode."
    model.train(); n, t0 = 0, time.time()
    for x, y in batches:
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad(); loss.backward(); opt.step(); n += len(y)
    return n / (time.time() - t0)

rates = {'stitchbook': [], 'minimal': []}
for _ in range(3):                                   # interleaved, so both see the same machine state
    rates['stitchbook'].append(stitchbook_step()); rates['minimal'].append(minimal_loop())
sb, mn = (sorted(v)[1] for v in rates.values())
print(f"stitch-train step: {sb:,.0f} img/s   minimal loop: {mn:,.0f} img/s   ratio: {sb / mn:.2f}x (goal >= 0.95x)")
