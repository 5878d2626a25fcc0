"""The reference system's own job configs build as they are, with random weights: every YAML under
`../shared/reference/configs/` with a `model:` or `assembly:`, read in place, in Python and through `stitch-check`."""
import os, subprocess, sys
from pathlib import Path
import pytest, torch
from stitchbook.config import load_config, ConfigError
from stitchbook.errors import UserError
from stitchbook.assembly import model_from_config, parts_table
from stitchbook.data import dataset_info
from shared import CONFIGS

def is_job(path)->bool:
    try: return bool({'model', 'assembly'} & set(load_config(path)))
    except ConfigError: return False          # not a mapping: a list to include, such as default-datasets.yml

def job_configs()->list:
    "Every job config under the reference's configs; CI must have them, elsewhere their tests are skipped."
    files = sorted(p for p in CONFIGS.rglob('*.yml') if is_job(p))
    if not files and os.environ.get('CI'): raise RuntimeError(f"CI needs the reference configs at {CONFIGS}")
    return files or [pytest.param(None, marks=pytest.mark.skip(reason=f"no reference job configs at {CONFIGS}"))]

JOBS = job_configs()
def name(p): return str(p.relative_to(CONFIGS)) if isinstance(p, Path) else 'none'

def data_classes(cfg)->int|None:
    "Classes of the config's dataset (or first task's, or first of `datasets`), as a job would give them to its heads."
    tc = cfg.get('train_config') or {}
    names = [tc.get('dataset'), *[t.get('dataset') for t in tc.get('tasks') or []], *(cfg.get('datasets') or [])]
    names = [n for n in names if n is not None]
    try: return dataset_info(names[0]).num_classes if names and isinstance(names[0], str) else None
    except UserError: return None

def predicts(spec, classes):
    "What a part tree predicts: a class count, or a list of them for `agg: none` branches (from the config alone)."
    (kind, args), = spec.items()
    args = {'parts': args} if isinstance(args, list) else args or {}
    if kind == 'ClassifierHead': return args.get('num_classes', classes)
    if kind == 'Assembly': return predicts(args['head'] if 'head' in args else args['parts'][-1], classes)
    if kind == 'ParallelPart':
        none = args.get('agg', 'none') == 'none' and args.get('out_format') is None
        return [predicts(p, classes) for p in args['parts']] if none else predicts(args['parts'][0], classes)
    if kind == 'Net': return args.get('num_classes', classes)
    return {**(args.get('model_args') or {}), **args}.get('num_classes', 1000)    # a Subnet keeps its network's head

@pytest.mark.parametrize('path', JOBS, ids=name)
def test_reference_job_config_builds(path):
    cfg = load_config(path)
    size = (cfg.get('train_config', {}).get('data_preprocessing') or {}).get('image_size', 224)
    classes = data_classes(cfg)
    model = model_from_config(cfg, num_classes=classes, pretrained=False).eval()
    assert model.input_shape == (3, size, size)
    with torch.no_grad(): out = model(torch.randn(2, 3, size, size))
    parts = [cfg['model']] if 'model' in cfg else cfg['assembly']
    want = predicts(cfg['head'] if 'head' in cfg else parts[-1], classes)
    if isinstance(want, list):                                            # one output per task head
        assert [tuple(o.shape) for o in out] == [(2, k) for k in want]
    else: assert out.shape == (2, want)
    s = parts_table(model)
    frozen = [bool(f) for f in s.frozen]
    assert all(t == 0 for t, f in zip(s.trainable, frozen) if f)          # frozen parts have no trainable weights
    if any(frozen): assert s.trainable.sum() > 0                          # ... and the adapter has some

def test_multitask_config_gives_one_output_per_task():
    path = CONFIGS/'tests'/'train-conv4-multitask.yml'
    if not path.is_file(): pytest.skip(f"no {path}")
    model = model_from_config(path, num_classes=100, pretrained=False).eval()
    with torch.no_grad(): out = model(torch.randn(2, 3, 224, 224))
    assert [tuple(o.shape) for o in out] == [(2, 100), (2, 45)]

def stitch_check(path:Path, *flags):
    "Run `stitch-check` on `path` from the config's own folder, as a user would."
    exe = Path(sys.executable).parent/'stitch-check'
    return subprocess.run([str(exe), path.name, *flags], cwd=path.parent, capture_output=True, text=True,
                          env={**os.environ, 'HF_HUB_OFFLINE': '1'})

@pytest.mark.parametrize('path', JOBS, ids=name)
def test_stitch_check_builds_every_reference_job_config(path):
    r = stitch_check(path, '--no-pretrained')
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[-1].startswith('input (')

def test_missing_checkpoint_is_named_unless_weights_are_random():
    "Without `--no-pretrained` a missing `ckp_path` file is named (with it, the test above builds the same config)."
    with_ckp = [p for p in JOBS if isinstance(p, Path) and 'ckp_path:' in p.read_text()]
    if not with_ckp: pytest.skip("no reference job config with a ckp_path")
    path = with_ckp[0]
    r = stitch_check(path)
    assert r.returncode == 2 and 'Traceback' not in r.stderr
    assert '.ckp_path: no checkpoint file' in r.stderr and 'checkpoint.pth' in r.stderr, r.stderr
