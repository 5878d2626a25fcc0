"""`collect` of 1,000 synthetic job folders: the plain read (`index=False`) against the reads that use each sweep
folder's `results-index.parquet` (the first writes it), side by side in one run. Both build each job's rows as a pyarrow
table and one DataFrame for all (issue 15 section 4: a DataFrame per job made the plain read 4.6-7.6 s); folders are
read one at a time, or `--workers` at a time in threads (meant for network file systems: here they take turns).

Each folder holds the files a finished job writes (shaped after a job of the main job, `runs/embedded`): config and
metadata, status and history, the model's record, a three-epoch results table and its config, a checkpoint with its
SHA-256, and the executed notebook. Four sweeps of 250 jobs, two of them parents. Three rounds, interleaved; medians.

    .venv/bin/python bench/collect.py [--jobs 1000] [--workers 1]
"""
import argparse, json, shutil, statistics, tempfile, time
from pathlib import Path
import numpy as np
import pandas as pd
import yaml
from stitchbook import jobs
from stitchbook.results import collect

COLS = ['Epoch', 'Step', 'Overall/Train Loss', 'Overall/Train Accuracy', 'Overall/Test Loss', 'Overall/Test Accuracy',
        'LR', 'Time/Train', 'Time/Test', 'Time/Images per Second']

def table(rng, epochs=3)->pd.DataFrame:
    "A results table as `stitch-train` writes it: epoch 0 (before training), then one row per epoch."
    acc = np.sort(rng.uniform(0.1, 0.9, epochs))
    return pd.DataFrame({'Epoch': range(epochs), 'Step': [63 * e for e in range(epochs)],
                         'Overall/Train Loss': 2 - 2 * acc, 'Overall/Train Accuracy': acc,
                         'Overall/Test Loss': 2.1 - 2 * acc, 'Overall/Test Accuracy': acc - 0.01, 'LR': 0.01,
                         'Time/Train': [0.0] + [0.7] * (epochs - 1), 'Time/Test': 0.12,
                         'Time/Images per Second': [float('nan')] + [6000.0] * (epochs - 1)})[COLS]

def job_folder(folder:Path, i:int, sweep:str, rng):
    "One finished job's files."
    parent = i < 2
    meta = dict(arch='fmnist_resnet-fmnist_vit', first_deleted_block=0 if parent else 1 + i % 4,
                last_deleted_block=0 if parent else 1 + i % 4 + i % 3, num_downsamples=i % 2,
                adapter='parent' if parent else ['linear', 'conv3x3_with_downsample'][i % 2], sweep=sweep,
                role='parent' if parent else 'stitch', parent_of=['source', 'dest'][i] if parent else '',
                network='fmnist_resnet' if parent else '', source_stage='' if parent else f'layer{1 + i % 4}',
                dest_stage='' if parent else f'blocks.{i % 6}', same_as='')
    folder.mkdir(parents=True)
    jobs.metadata_file(folder).write_text(yaml.safe_dump(meta, sort_keys=False))
    cfg = yaml.safe_dump({'assembly': [{'Subnet': {'model_name': 'fmnist_resnet', 'block_output': 'layer1'}}],
                          'train_config': {'dataset': 'fashion-mnist', 'epochs': 2, 'seed': 0}})
    for f in (jobs.config_file(folder), jobs.ran_config_file(folder, 0)): f.write_text(cfg)
    table(rng).to_parquet(jobs.result_file(folder, 0))
    jobs.model_file(folder).write_text(json.dumps({
        'params': 86810 + i, 'trainable_params': 18560, 'flops': 7955712 + 1000 * i, 'input_shape': [1, 32, 32],
        'weights': [{'part': 'assembly[0]', 'source': 'zoo', 'name': 'fmnist_resnet', 'sha256': '0' * 64}],
        'data': 'fashion-mnist', 'preprocessing': {'image_size': [32, 32], 'mean': [0.286], 'std': [0.353]}}, indent=1))
    jobs.write_checkpoint(jobs.checkpoint_file(folder), {'epoch': 2, 'weight': np.zeros(4096, 'float32')})
    jobs.notebook_file(folder).write_text(json.dumps({'cells': [], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
    jobs.add_attempt(folder, 'start'); jobs.add_attempt(folder, 'done')
    jobs.write_status(folder, 'done', epochs=2, host='node1', pid=1000 + i, executor='local')

def build(root:Path, n:int, sweeps:int=4):
    rng = np.random.default_rng(0)
    for s in range(sweeps):
        for i in range(n // sweeps): job_folder(root/f'sweep{s}'/f'gap-{i:04d}', i, f'sweep{s}', rng)

def timed(fn)->tuple:
    t = time.perf_counter(); out = fn(); return time.perf_counter() - t, out

def main(n:int, workers:int=1, rounds:int=3):
    root = Path(tempfile.mkdtemp())
    try:
        build(root, n)
        plain, cold, warm, after = [], [], [], []
        for r in range(rounds):
            for ix in root.glob('*/results-index.parquet'): ix.unlink()
            t, ref = timed(lambda: collect(root, index=False, workers=1)); plain.append(t)
            for times in (cold, warm):                              # the first writes the indexes, the next uses them
                t, df = timed(lambda: collect(root, workers=workers)); times.append(t)
                pd.testing.assert_frame_equal(df, ref)
            for f in sorted(root.glob('sweep1/gap-00[1-2]?'))[:10]:                   # ten jobs finish again
                table(np.random.default_rng(r)).to_parquet(jobs.result_file(f, 0)); jobs.write_status(f, 'done')
            t, df = timed(lambda: collect(root, workers=workers)); after.append(t)
            pd.testing.assert_frame_equal(df, collect(root, index=False, workers=1))
        p, c, w, a = map(statistics.median, (plain, cold, warm, after))
        print(f"{n} job folders, {len(df)} rows; median of {rounds} rounds; tables identical to the plain read")
        print(f"  plain read (no index, one folder at a time): {p:.2f} s")
        print(f"  first collect ({workers} at a time, writes the indexes): {c:.2f} s   ({p / c:.1f}x)")
        print(f"  next collect (from the indexes): {w:.2f} s   ({p / w:.1f}x)")
        print(f"  after 10 jobs finished again: {a:.2f} s   ({p / a:.1f}x)")
    finally: shutil.rmtree(root)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--jobs', type=int, default=1000)
    ap.add_argument('--workers', type=int, default=1, help='job folders read at a time by the collects with an index')
    args = ap.parse_args()
    main(args.jobs, args.workers)
