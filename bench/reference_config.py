"""Images/s of stitch-train's training step on the reference's real-size configs (`tests/stitch-resnet18.yml`,
`tests/stitch-resnet-vit.yml`) at 224 px: stitchbook's fast path (BatchNorm folded into the frozen parts' convolutions,
channels-last, the prefix under `inference_mode`) against its plain path (all speed-ups off), measured side by side
(interleaved) in one run, with the ratio, and where each path's time goes (data, prefix, adapter, suffix fwd/bwd).

Synthetic ImageNet-style folder data (class folders of JPEGs at the config's size) is made in a temporary folder;
every part has random weights (`--no-pretrained`). One epoch is `--batches` steps, timed from the first step.
The reference trainer measured ~15 img/s on stitch-resnet18.yml at 224 px, batch 16, on a 2-core machine.

    .venv/bin/python bench/reference_config.py            # both configs, 20 batches of 16, two rounds
    .venv/bin/python bench/reference_config.py --quick    # a smoke run: 5 batches, one round, stitch-resnet18 only
    .venv/bin/python bench/reference_config.py --device cuda --amp --compile --batch-size 128 --workers 8
                                                          # a GPU: bf16 autocast, channels-last, torch.compile, MFU

Each line also gives the model FLOPs of a training step per image (`torch.utils.flop_counter`: the prefix's forward,
the rest's forward and backward) and the FLOP rate they make at the measured images/s; with `--peak-tflops` (the
device's dense peak for the precision used, e.g. 989 for an H200 in bf16) it prints the MFU.
"""
import argparse, os, statistics, tempfile, time
from pathlib import Path
os.environ.setdefault('HF_HUB_OFFLINE', '1')
import numpy as np, torch
from torch.utils.flop_counter import FlopCounterMode
from PIL import Image
from stitchbook.config import load_config, apply_overrides
from stitchbook.job import prepare
from stitchbook.train import train_epoch
from stitchbook.speed import fast_parts

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get('STITCHBOOK_SHARED', ROOT.parent/'shared'))
TESTS = SHARED/'reference'/'configs'/'tests'
CONFIGS = [TESTS/'stitch-resnet18.yml', TESTS/'stitch-resnet-vit.yml']
PHASES = ('data', 'prefix', 'adapter', 'suffix fwd', 'suffix bwd', 'adapter bwd+step')

def make_folder_data(root:Path, n_train:int, n_val:int, size:int, classes:int=8, seed:int=0)->Path:
    "An ImageNet-style `imagenet/{train,val}/<class>/*.JPEG` tree of smooth random JPEGs at `size` px under `root`."
    g = np.random.default_rng(seed)
    for split, n in (('train', n_train), ('val', n_val)):
        for i in range(n):
            folder = root/'imagenet'/split/f'n{i % classes:08d}'
            folder.mkdir(parents=True, exist_ok=True)
            coarse = Image.fromarray(g.integers(0, 256, (size // 16, size // 16, 3), dtype=np.uint8))
            coarse.resize((size, size), Image.BICUBIC).save(folder/f'{i:06d}.JPEG', quality=90)
    return root

def build(config:Path, data:Path, batches:int, batch_size:int, workers:int, device:str='cpu', amp:bool=False):
    "The job of `config` as stitch-train prepares it on the synthetic data, with random weights: a `Run`."
    cfg = apply_overrides(load_config(config), epochs=1, batch_size=batch_size, max_batches=batches, device=device,
                          data_path=str(data), workers=workers)
    return prepare(cfg, data/'job', pretrained=False, activation_cache=False, progress=False, amp=amp)

def step_flops(run)->float:
    "Model FLOPs of one training step per image: the prefix's forward, the rest's forward and backward."
    x, y = next(iter(use(run, (run.prefix, run.rest)).train))
    x, y = x.to(run.device), y.to(run.device)
    run.model.train()
    with FlopCounterMode(display=False) as counter:
        with torch.no_grad(): h = run.prefix(x) if len(run.prefix) else x
        run.loss(run.rest(h).float(), y).backward()
    run.opt.zero_grad(set_to_none=True)
    return counter.get_total_flops() / len(y)

def _sync(device):
    "Wait for the device's queued work, so that a host timer measures it."
    if str(device).startswith('cuda'): torch.cuda.synchronize()

def use(run, parts):
    "Point `run` at `(prefix, rest)` and rewind its training data to the first batch."
    run.prefix, run.rest = parts
    run.train.load_state_dict({'epoch': 0, 'next_batch': 0})
    return run

def epoch_rate(run, parts)->float:
    "Images per second of one `train_epoch` (stitch-train's own step) over `parts`."
    return train_epoch(use(run, parts))['images_per_second']

def _split_rest(rest):
    "`(trained, suffix)`: the steps of `rest` up to its last trained one, and the fixed steps after them."
    steps = list(rest)
    k = len(steps)
    while k and not any(p.requires_grad for p in steps[k - 1].parameters()): k -= 1
    return torch.nn.Sequential(*steps[:k]), torch.nn.Sequential(*steps[k:])

def _autocast(run):
    "bf16 autocast on the run's device when the run asks for it (`--amp`), as `train_epoch` runs its steps."
    return torch.autocast(run.device.split(':')[0], dtype=torch.bfloat16, enabled=run.amp)

def profile(run, parts)->dict:
    "Seconds spent in each phase of an epoch of `train_epoch`'s step over `parts`, run by hand with timers."
    use(run, parts); run.model.train()
    prefix, (adapter, suffix) = parts[0], _split_rest(parts[1])
    out, it = dict.fromkeys(PHASES, 0.), iter(run.train)
    while True:
        t = [time.perf_counter()]
        try: x, y = next(it)
        except StopIteration: return out
        x, y = x.to(run.device), y.to(run.device); _sync(run.device)
        t.append(time.perf_counter())
        with torch.no_grad(), _autocast(run): h = prefix(x) if len(prefix) else x
        _sync(run.device); t.append(time.perf_counter())
        with _autocast(run): a = adapter(h)
        _sync(run.device); t.append(time.perf_counter())
        with _autocast(run): loss = run.loss(suffix(a).float(), y)
        loss.item(); t.append(time.perf_counter())
        grad, = torch.autograd.grad(loss, a); _sync(run.device); t.append(time.perf_counter())
        run.opt.zero_grad(set_to_none=True); a.backward(grad); run.opt.step(); _sync(run.device)
        t.append(time.perf_counter())
        for phase, t0, t1 in zip(PHASES, t, t[1:]): out[phase] += t1 - t0

def breakdown(name:str, secs:dict, images:int)->str:
    "One line: milliseconds per image and share of the step in each phase."
    total = sum(secs.values())
    cells = '  '.join(f"{k} {1e3 * v / images:5.1f} ms ({100 * v / total:2.0f}%)" for k, v in secs.items())
    return f"  {name:5s} {images / total:5.1f} img/s | {cells}"

def image_size(config:Path)->int:
    "The side of the config's images: `data_preprocessing.image_size`, else ImageNet's 224."
    return (load_config(config).get('train_config', {}).get('data_preprocessing') or {}).get('image_size', 224)

def flop_rate(flops:float, rate:float, peak_tflops)->str:
    "The FLOP rate `flops` per image makes at `rate` images/s, and its share of the device's peak (MFU)."
    achieved = flops * rate / 1e12
    return f"{achieved:.2f} TFLOP/s" + (f" = MFU {achieved / peak_tflops:.1%}" if peak_tflops else "")

def bench(config:Path, tmp:Path, a):
    "Print the fast and plain paths' images/s on `config`, measured interleaved, their ratio, and their profiles."
    side = a.jpeg_size or image_size(config)
    data = tmp/str(side)
    if not data.is_dir(): make_folder_data(data, a.batches * a.batch_size, a.batch_size, side)
    run = build(config, data, a.batches, a.batch_size, a.workers, a.device, a.amp)
    paths = {'fast': fast_parts(run.prefix, run.rest, compile=a.compile), 'plain': (run.prefix, run.rest)}
    flops = step_flops(run)
    for parts in paths.values(): epoch_rate(run, parts)     # warm-up: compiling, allocators, first-call costs
    rates = {name: [] for name in paths}
    for _ in range(a.rounds):                               # interleaved, so both see the same machine state
        for name, parts in paths.items(): rates[name].append(epoch_rate(run, parts))
    f, p = (statistics.median(v) for v in rates.values())
    print(f"{config.name}: fast {f:.1f} img/s   plain {p:.1f} img/s   ratio {f / p:.2f}x   ({a.batches} batches of "
          f"{a.batch_size}, {side} px JPEGs, {a.rounds} round(s), {a.workers} workers, {a.device}"
          f"{', bf16' if a.amp else ''}{', compiled' if a.compile else ''})")
    print(f"  {flops / 1e9:.2f} GFLOPs per image per step; fast {flop_rate(flops, f, a.peak_tflops)}, "
          f"plain {flop_rate(flops, p, a.peak_tflops)}")
    for name, parts in paths.items(): print(breakdown(name, profile(run, parts), a.batches * a.batch_size))

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--configs', nargs='+', type=Path, default=CONFIGS, help="reference job configs")
    ap.add_argument('--batches', type=int, default=20, help="batches per epoch")
    ap.add_argument('--batch-size', type=int, default=16)
    ap.add_argument('--workers', type=int, default=0, help="data-loading workers")
    ap.add_argument('--rounds', type=int, default=2, help="interleaved epochs per path (the median is printed)")
    ap.add_argument('--compile', action='store_true',
                    help="also torch.compile the frozen parts (compiling falls in the warm-up epoch)")
    ap.add_argument('--jpeg-size', type=int, help="side of the JPEGs (default: the config's image size; ImageNet's "
                    "average photo is about 400x350)")
    ap.add_argument('--device', default='cpu', help="cpu, cuda, cuda:1")
    ap.add_argument('--amp', action='store_true', help="bf16 autocast, as stitch-train --amp")
    ap.add_argument('--peak-tflops', type=float, help="the device's dense peak in TFLOP/s for the precision used "
                    "(e.g. 989 for an H200 in bf16), to print the MFU")
    ap.add_argument('--quick', action='store_true', help="5 batches, one round, the first config only")
    a = ap.parse_args(argv)
    if a.quick: a.batches, a.rounds, a.configs = 5, 1, a.configs[:1]
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        for config in a.configs: bench(config, Path(tmp), a)

if __name__ == '__main__': main()
