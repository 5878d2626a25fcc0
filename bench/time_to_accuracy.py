"""Test accuracy against wall time for the training objectives (issue 15, section 3), side by side: `task` (the task
loss through the frozen destination top), `feature_match` (the adapter learns the destination's own features at its
cut; the top never runs in a step), `feature_match_then_task` (matching for half the epochs, then the task loss) and
`lstsq` (the closed-form init, `train_config.init: lstsq`, then the task loss). One linear adapter per gap of the
embedded pairs (configs/embedded/resnet.yml and resnet-vit.yml: zoo networks on Fashion-MNIST), on the CPU with the
activation cache. Accuracy is always that of the whole stitched model (prefix -> adapter -> suffix) on the test
subset; the wall time is cumulative: set-up (model, caches, closed-form fit) plus training, not testing. Each run
computes its own caches (the process's cache memo is cleared), so set-up costs are compared too.

    .venv/bin/python bench/time_to_accuracy.py            # 4 epochs on the embedded subset (4,000 images), 2 gaps each
    .venv/bin/python bench/time_to_accuracy.py --quick    # 2 epochs on 1,000 images, one gap each
"""
import argparse, copy, tempfile, time
import pandas as pd
from common import ROOT, apply_overrides, prepare
from stitchbook import cache
from stitchbook.config import check_config
from stitchbook.jobs import cache_dir
from stitchbook.sweep import plan
from stitchbook.train import evaluate_tasks, train_epoch, use_objective

OBJECTIVES = ('task', 'feature_match', 'feature_match_then_task', 'lstsq')
GAPS = {'resnet': [(3, 3), (2, 2)], 'resnet-vit': [(3, 3), (2, 3)]}  # (first, last) dropped parts; the first is quick's

def gap_job(pair:str, gap:tuple)->dict:
    "The job config of a linear adapter across `gap`: 1x1 where the sizes agree, else downsample then 1x1."
    p = plan(ROOT/'configs'/'embedded'/f'{pair}.yml', tempfile.mkdtemp(), base_only=True)
    p = p[(p.role == 'stitch') & p.applies & (p.first_deleted_block == gap[0]) & (p.last_deleted_block == gap[1])]
    k = int(p.num_downsamples.iloc[0])
    return p[p.adapter == ('linear_no_downsample' if k == 0 else 'downsample_then_linear')].config.iloc[0]

def configured(job:dict, objective:str, epochs:int, subset:int, test_subset:int)->dict:
    "`job` trained `epochs` epochs on `subset` images with `objective` (or the closed-form init, `lstsq`)."
    cfg = copy.deepcopy(job)
    tc = cfg['train_config']
    tc.update(epochs=epochs, **({'init': 'lstsq'} if objective == 'lstsq' else {'objective': objective}))
    tc['data_preprocessing'].update(subset=subset, test_subset=test_subset)
    cfg = apply_overrides(cfg, device='cpu')
    check_config(cfg)
    return cfg

def curve(cfg:dict)->list:
    "`(epoch, what it trained on, cumulative seconds, test accuracy)` from the untrained model on."
    cache._MEMO.clear()                                               # every run pays for its own caches
    folder, start = tempfile.mkdtemp(), time.time()
    run = prepare(cfg, folder, progress=False)
    if run.objective is None:                                         # until `prepare` sets the objective itself
        use_objective(run, cfg['train_config'], None if run.cached else 'off', cache_dir(folder))
    wall = time.time() - start
    rows = [(0, 'init' if cfg['train_config'].get('init') else '-', wall, evaluate_tasks(run)[0][1])]
    for _ in range(cfg['train_config']['epochs']):
        stats = train_epoch(run)
        run.epoch += 1
        wall += stats['seconds']
        rows.append((run.epoch, stats['objective'], wall, evaluate_tasks(run)[0][1]))
    return rows

def main(quick:bool):
    epochs, subset, test_subset = (2, 1000, 500) if quick else (4, 4000, 2000)
    rows = []
    for pair, gaps in GAPS.items():
        for gap in gaps[:1] if quick else gaps:
            job = gap_job(pair, gap)
            for objective in OBJECTIVES:
                for epoch, trained, wall, acc in curve(configured(job, objective, epochs, subset, test_subset)):
                    rows.append(dict(pair=pair, gap=f"{gap[0]},{gap[1]}", epoch=epoch, objective=objective,
                                     cell=f"{acc:.3f} @ {wall:5.1f}s" + ('*' if trained == 'feature_match' else '')))
    table = pd.DataFrame(rows).pivot(index=['pair', 'gap', 'epoch'], columns='objective', values='cell')
    print(f"test accuracy @ cumulative wall time (set-up + training), {subset} training images, {epochs} epochs; "
          "* = the epoch matched features")
    print(table[list(OBJECTIVES)].to_string())

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--quick', action='store_true', help="2 epochs on 1,000 images, one gap per pair")
    main(ap.parse_args().quick)
