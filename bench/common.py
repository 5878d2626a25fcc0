"Shared set-up for the benchmarks: a stitching job on the embedded default, built as stitch-train builds it."
import copy, statistics, time
from pathlib import Path
import yaml
from stitchbook.config import load_config
from stitchbook.job import apply_overrides, prepare

ROOT = Path(__file__).resolve().parents[1]

CUTS = {  # a 4-stage zoo network cut after its stage 2: (last node of the bottom, first of the top, channels, size)
    'fmnist_resnet': ('layer2', 'layer3', 48, 4),
    'fmnist_convnext': ('stages.1', 'stages.2', 32, 4),
}

def same_arch_linear(model='fmnist_resnet', epochs=1, cut=None, **tc):
    "A zoo network cut at `cut` (default: after its stage 2, `CUTS`), a linear 1x1 adapter, the same network after it."
    end, start, c, s = cut or CUTS[model]
    cfg = load_config(ROOT/'configs'/'fmnist-resnet-convnext.yml')
    cfg['assembly'][0]['Subnet'].update(model_name=model, block_output=end, out_format=['img', [c, s, s]])
    cfg['assembly'][1]['SimpleAdapter'].update(in_channels=c, out_channels=c)
    cfg['assembly'][2]['Subnet'].update(model_name=model, block_input=start, in_format=['img', [c, s, s]])
    cfg['train_config'].update(epochs=epochs, **tc)
    return cfg

def median_rate(fn, repeats=3):
    "Median of `fn()` over `repeats` runs (each returns a rate)."
    return statistics.median(fn() for _ in range(repeats))

def stage_cuts(model:str)->dict:
    "Every cut of zoo network `model` between two stages (not before its head): name -> (end, start, channels, size)."
    from stitchbook.stages import stages
    st = stages(model)
    return {f"{a.name}|{b.name}": (a.end, b.start, a.format.C, a.format.H)
            for a, b in zip(st, st[1:]) if a.end and b.start and b.name != 'head' and a.format.layout == 'img'}
