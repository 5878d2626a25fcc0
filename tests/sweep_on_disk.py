"""A small sweep left on disk as the launcher leaves it (job folders with metadata, status, history, results), for
the report and explorer tests: no training, so it takes milliseconds."""
from pathlib import Path
import pandas as pd
import yaml
from stitchbook import jobs
from stitchbook.results import ACC

def job_folder(root, sweep, name, state, accs=(), error=None, **meta):
    "A job folder: metadata, status and history, the log, and a results table with one row per epoch in `accs`."
    folder = Path(root)/sweep/name
    folder.mkdir(parents=True)
    (folder/'metadata.yml').write_text(yaml.safe_dump(dict(sweep=sweep, **meta)))
    log = folder/'log.out'
    log.write_text(f'Traceback (most recent call last):\n  ...\n{error}\n' if error else 'done\n')
    jobs.add_attempt(folder, 'start', log=str(log))
    if accs:
        pd.DataFrame({'Epoch': range(len(accs)), ACC: list(accs), 'Overall/Train Accuracy': list(accs)}
                     ).to_parquet(jobs.result_file(folder, 0))
    jobs.write_status(folder, state, error=error, log=str(log), host='testhost', executor='local')
    return folder

def sweep_on_disk(root, fail:str|None=None)->Path:
    "Two sweeps of a parent and 2 gaps x 2 stitchers, 3 epochs each; the job named `fail` failed with an error."
    root = Path(root)
    for sweep, parent_acc in (('same', 0.9), ('cross', 0.85)):
        job_folder(root, sweep, 'parent', 'done', (0.5, 0.8, parent_acc), role='parent', parent_of='both',
                   network='net', first_deleted_block=0, last_deleted_block=0)
        for g, (first, last) in enumerate([(1, 1), (1, 2)]):
            for j, a in enumerate(('linear', 'conv3x3')):
                name = f'gap-{first},{last}-{a}'
                meta = dict(role='stitch', adapter=a, first_deleted_block=first, last_deleted_block=last,
                            num_downsamples=g, source_stage=f'stage{first - 1}', dest_stage=f'stage{last + 1}')
                if f'{sweep}/{name}' == fail:
                    job_folder(root, sweep, name, 'failed', error='RuntimeError: mat1 and mat2 shapes cannot be '
                               'multiplied (64x3 and 4x5)\nwhile running the adapter', **meta)
                else:
                    top = parent_acc - 0.05 - 0.1 * g - 0.03 * j
                    job_folder(root, sweep, name, 'done', (top - 0.3, top - 0.1, top), **meta)
    return root
