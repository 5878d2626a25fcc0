"""Hostile and careless input (issue 17, sections 2 to 4): every case is refused with exit 2 and one paragraph that
names the key or flag at fault, with no traceback, and nothing is written: the working folder, the output root and
everything around them are listed before and after. The cases run in-process through the commands' own argument
parsing (`fastcore.script.parse_cli` on the argv a user would type); a few run the installed commands too, to show
they behave the same."""
import os, subprocess, sys, zipfile
from pathlib import Path
import pytest, yaml
from fastcore.script import parse_cli
from stitchbook import cli

BIN = Path(sys.executable).parent
JOB = {'assembly': [{'Subnet': {'model_name': 'test_resnet', 'block_output': 'layer2', 'frozen': True}},
                    {'SimpleAdapter': {'num_conv': 1, 'in_channels': 48, 'out_channels': 48}},
                    {'Subnet': {'model_name': 'test_resnet', 'block_input': 'layer3', 'out_format': 'vector',
                                'frozen': True}}],
       'train_config': {'dataset': 'fashion-mnist', 'epochs': 1, 'batch_size': 8,
                        'data_preprocessing': {'subset': 16, 'test_subset': 16}}}
SWEEP = dict(arch='test_resnet', model_args={'in_chans': 1}, input_shape=[1, 32, 32],
             gaps=[{'blocks_to_drop': [2, 2], 'num_downsamples': 1}], stitchers=['linear_no_downsample'],
             train_config={'dataset': 'fashion-mnist', 'epochs': 1})
LATIN1 = 'assembly: []\n# café\n'.encode('latin-1')
BOMB = 'a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n' + ''.join(
    f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip('abcdefgh', 'bcdefghi'))

def job(**change)->str:
    "The good job config with `change` merged into `train_config` (or, for other keys, at the top)."
    cfg = yaml.safe_load(yaml.safe_dump(JOB))
    for k, v in change.items():
        if k in ('assembly', 'model'): cfg.pop('assembly'); cfg[k] = v
        elif k == 'pre': cfg['train_config']['data_preprocessing'].update(v)
        elif k in ('dataset', 'optimizer', 'optimizer_args', 'epochs', 'batch_size', 'lr_scheduler'):
            cfg['train_config'][k] = v
        else: cfg[k] = v
    return yaml.safe_dump(cfg)

def sweep(**change)->str: return yaml.safe_dump({**SWEEP, **change})

def zip_file()->bytes:
    "A zip archive that is not a checkpoint: it passes the model-free look at the file, and fails when loaded."
    import io
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w') as z: z.writestr('notes.txt', 'not a checkpoint')
    return b.getvalue()

TRAIN = ['--no-pretrained']
# (id, command, files written in the working folder, argv after the command, what the one paragraph names)
CASES = [
    # -- 2. Config files: not UTF-8, a folder, an include that is either
    ('latin1-train', 'stitch-train', {'c.yml': LATIN1}, ['-c', 'c.yml'],
     ['c.yml: config: the file is not UTF-8 text', '0xe9']),
    ('latin1-check', 'stitch-check', {'c.yml': LATIN1}, ['-c', 'c.yml'], ['is not UTF-8 text']),
    ('latin1-check-positional', 'stitch-check', {'c.yml': LATIN1}, ['c.yml'], ['is not UTF-8 text']),
    ('latin1-sweep', 'stitch-sweep', {'s.yml': LATIN1}, ['-c', 's.yml', '-o', 'root'], ['is not UTF-8 text']),
    ('latin1-status', 'stitch-status', {'s.yml': LATIN1}, ['-c', 's.yml', '-o', 'root'], ['is not UTF-8 text']),
    ('latin1-similarity', 'stitch-similarity', {'s.yml': LATIN1}, ['-c', 's.yml', '-o', 'root'],
     ['is not UTF-8 text']),
    ('latin1-include-train', 'stitch-train', {'c.yml': 'assembly: []\ntrain_config: !include tc.yml\n',
                                              'tc.yml': b'epochs: 1 # \xff\n'}, ['-c', 'c.yml'],
     ['!include', "'tc.yml' in c.yml is not UTF-8 text"]),
    ('latin1-include-sweep', 'stitch-sweep', {'s.yml': 'arch: test_resnet\ngaps: !include g.yml\n',
                                              'g.yml': b'# \xe9\n- {blocks_to_drop: [1, 1]}\n'},
     ['-c', 's.yml', '-o', 'root'], ["'g.yml' in s.yml is not UTF-8 text"]),
    ('folder-config-train', 'stitch-train', {'cfg/x': 'x'}, ['-c', 'cfg'], ['is a folder, not a config file']),
    ('folder-config-check', 'stitch-check', {'cfg/x': 'x'}, ['-c', 'cfg'], ['is a folder, not a config file']),
    ('folder-config-sweep', 'stitch-sweep', {'cfg/x': 'x'}, ['-c', 'cfg', '-o', 'root'],
     ['is a folder, not a config file']),
    ('folder-include', 'stitch-train', {'c.yml': 'assembly: []\ntrain_config: !include parts\n', 'parts/x': 'x'},
     ['-c', 'c.yml'], ['!include', "'parts' in c.yml is a folder, not a YAML file"]),
    ('missing-config', 'stitch-train', {}, ['-c', 'nope.yml'], ['no such config file']),
    ('no-config-train', 'stitch-train', {}, [], ['give the job config: stitch-train -c config.yml']),
    ('no-config-check', 'stitch-check', {}, [], ['give the job config: stitch-check -c config.yml']),
    ('no-config-sweep', 'stitch-sweep', {}, ['-o', 'root'], ['give the sweep config: stitch-sweep -c sweep.yml']),
    ('no-config-status', 'stitch-status', {}, [], ['give the sweep config: stitch-status -c sweep.yml']),
    ('list-config', 'stitch-train', {'c.yml': '- 1\n- 2\n'}, ['-c', 'c.yml'], ['a config is a YAML mapping']),
    ('empty-config', 'stitch-check', {'c.yml': ''}, ['-c', 'c.yml'], ['a config is a YAML mapping']),
    ('two-configs-check', 'stitch-check', {'a.yml': job(), 'b.yml': job()}, ['a.yml', '-c', 'b.yml'],
     ['two configs']),
    ('metadata-yaml-report', 'stitch-report', {'root/s/j/metadata.yml': 'arch: [unclosed\n'}, ['root'],
     ['metadata.yml', 'YAML syntax error at line']),
    # -- 2. Training settings
    ('weight-decay-string', 'stitch-train', {'c.yml': job(optimizer_args={'weight_decay': '1e-4'})},
     ['-c', 'c.yml'], ['train_config.optimizer_args.weight_decay: must be a number >= 0']),
    ('momentum-string', 'stitch-check', {'c.yml': job(optimizer_args={'momentum': 'high'})}, ['-c', 'c.yml'],
     ['train_config.optimizer_args.momentum']),
    ('subset-string', 'stitch-train', {'c.yml': job(pre={'subset': '100'})}, ['-c', 'c.yml'],
     ['train_config.data_preprocessing.subset: must be an integer > 0']),
    ('image-size-string', 'stitch-train', {'c.yml': job(pre={'image_size': '32'})}, ['-c', 'c.yml'],
     ['train_config.data_preprocessing.image_size: must be an integer from 8 to 4096']),
    ('optimizer-base-class', 'stitch-train', {'c.yml': job(optimizer='Optimizer')}, ['-c', 'c.yml'],
     ["train_config.optimizer: 'Optimizer' is not a torch.optim optimizer"]),
    ('scheduler-base-class', 'stitch-check', {'c.yml': job(lr_scheduler='LRScheduler')}, ['-c', 'c.yml'],
     ['train_config.lr_scheduler']),
    ('factory-kwargs', 'stitch-check',
     {'nets_h1.py': 'import torch\ndef make(width=4): return torch.nn.Conv2d(1, width, 3)\n',
      'c.yml': job(model={'Net': {'model_name': 'nets_h1:make', 'depth': 3}})},
     ['-c', 'c.yml', '--no-pretrained'], ['model.Net.depth', 'takes no such argument']),
    # -- 2. Flags and paths
    ('output-is-a-file-train', 'stitch-train', {'c.yml': job(), 'out': 'x'}, ['-c', 'c.yml', '-o', 'out'],
     ['the job folder (-o, or save_dir:) out is a file']),
    ('output-is-a-file-sweep', 'stitch-sweep', {'s.yml': sweep(), 'out': 'x'}, ['-c', 's.yml', '-o', 'out'],
     ['the output root (-o/--output) out is a file']),
    ('output-is-a-file-similarity', 'stitch-similarity', {'s.yml': sweep(), 'out': 'x'},
     ['-c', 's.yml', '-o', 'out'], ['(-o/--output) out is a file']),
    ('metrics-output-missing-folder', 'stitch-train', {'c.yml': job()},
     ['-c', 'c.yml', '-o', 'root', '--metrics-output', 'nowhere/r.parquet'],
     ['metrics_output', 'set by --metrics-output', 'does not exist']),
    ('metrics-output-folder', 'stitch-train', {'c.yml': job(), 'results/x': 'x'},
     ['-c', 'c.yml', '-o', 'root', '--metrics-output', 'results'], ['--metrics-output', 'is a folder']),
    ('device-bogus', 'stitch-train', {'c.yml': job()}, ['-c', 'c.yml', '-o', 'root', '--device', 'bogus'],
     ["--device: 'bogus' is not a device"]),
    ('device-absent-gpu', 'stitch-train', {'c.yml': job()},
     ['-c', 'c.yml', '-o', 'root', '--device', 'cuda:99', *TRAIN], ["'cuda:99' (--device) is not on this machine"]),
    ('resume-from-text', 'stitch-train', {'c.yml': job(), 'ck.pt': 'hello'},
     ['-c', 'c.yml', '-o', 'root', '--resume-from', 'ck.pt'], ['--resume-from', 'is not a checkpoint']),
    ('resume-from-missing', 'stitch-train', {'c.yml': job()},
     ['-c', 'c.yml', '-o', 'root', '--resume-from', 'gone.pt'], ['--resume-from', 'does not exist']),
    ('resume-from-folder', 'stitch-train', {'c.yml': job(), 'ck/x': 'x'},
     ['-c', 'c.yml', '-o', 'root', '--resume-from', 'ck'], ['--resume-from', 'is a folder']),
    ('resume-from-zip', 'stitch-train', {'c.yml': job(), 'ck.pt': zip_file()},
     ['-c', 'c.yml', '-o', 'root', '--resume-from', 'ck.pt', *TRAIN],
     ['ck.pt (--resume-from', 'cannot be read as a checkpoint']),
    ('load-from-missing', 'stitch-train', {'c.yml': job()}, ['-c', 'c.yml', '-o', 'root', '--load-from', 'w.pt'],
     ['set by --load-from', 'does not exist']),
    ('load-from-text', 'stitch-train', {'c.yml': job(), 'w.pt': 'weights'},
     ['-c', 'c.yml', '-o', 'root', '--load-from', 'w.pt'], ['--load-from', 'is not a checkpoint']),
    ('load-and-resume', 'stitch-train', {'c.yml': job(), 'a.pt': zip_file()},
     ['-c', 'c.yml', '-o', 'root', '--load-from', 'a.pt', '--resume-from', 'a.pt'],
     ['load_from (weights only) and resume_from (a whole run) exclude each other']),
    ('data-path-missing', 'stitch-train', {'c.yml': job()}, ['-c', 'c.yml', '-o', 'root', '--data-path', 'nodata'],
     ['nodata', 'set by --data-path', 'is not a folder']),
    ('data-path-empty', 'stitch-train', {'c.yml': job(), 'empty/.keep': ''},
     ['-c', 'c.yml', '-o', 'root', '--data-path', 'empty', *TRAIN], ['data_path', 'holds no Fashion-MNIST']),
    ('report-root-missing', 'stitch-report', {}, ['nothere'], ['ROOT nothere is not a folder']),
    ('report-output-file', 'stitch-report', {'root/x': 'x', 'rep': 'x'}, ['root', '--output', 'rep'],
     ['the report folder (--output, default ROOT) rep is a file']),
    ('zoo-data-path-file', 'stitch-zoo', {'d': 'x'}, ['--data-path', 'd'],
     ['the data folder (--data-path) d is a file']),
    # -- 3. Nothing silently accepted
    ('subset-negative', 'stitch-train', {'c.yml': job(pre={'subset': -5})}, ['-c', 'c.yml'],
     ['train_config.data_preprocessing.subset: must be an integer > 0, got -5']),
    ('test-subset-zero', 'stitch-train', {'c.yml': job(pre={'test_subset': 0})}, ['-c', 'c.yml'],
     ['train_config.data_preprocessing.test_subset']),
    ('image-size-huge', 'stitch-check', {'c.yml': job(pre={'image_size': 100000})}, ['-c', 'c.yml'],
     ['data_preprocessing.image_size: must be an integer from 8 to 4096']),
    ('image-size-tiny', 'stitch-train', {'c.yml': job(pre={'image_size': 2})}, ['-c', 'c.yml'],
     ['data_preprocessing.image_size']),
    ('preprocessing-unknown-key', 'stitch-train', {'c.yml': job(pre={'imagesize': 32})}, ['-c', 'c.yml'],
     ["data_preprocessing.imagesize: unknown key. Did you mean 'image_size'"]),
    ('epochs-huge', 'stitch-train', {'c.yml': job(epochs=1000000)}, ['-c', 'c.yml'],
     ['train_config.epochs: must be an integer from 0 to 10,000']),
    ('batch-size-huge', 'stitch-train', {'c.yml': job(batch_size=10**7)}, ['-c', 'c.yml'],
     ['train_config.batch_size: must be an integer from 1 to 65,536']),
    ('alias-bomb-train', 'stitch-train', {'c.yml': BOMB + job()}, ['-c', 'c.yml'],
     ['expands to more than 100,000 values']),
    ('alias-bomb-sweep', 'stitch-sweep', {'s.yml': BOMB + sweep()}, ['-c', 's.yml', '-o', 'root'],
     ['expands to more than 100,000 values']),
    ('alias-self', 'stitch-check', {'c.yml': 'assembly: &x [*x]\n'}, ['-c', 'c.yml'], ['an alias inside itself']),
    ('gap-outside-network', 'stitch-sweep', {'s.yml': sweep(gaps=[{'blocks_to_drop': [2, 40]}])},
     ['-c', 's.yml', '-o', 'root', *TRAIN], ['gaps[0]: blocks_to_drop [2, 40] does not fit']),
    ('gap-backwards', 'stitch-sweep', {'s.yml': sweep(gaps=[{'blocks_to_drop': [3, 2]}])},
     ['-c', 's.yml', '-o', 'root'], ['gaps[0]: write {blocks_to_drop: [first, last]']),
    ('arch-and-src-arch', 'stitch-sweep', {'s.yml': sweep(src_arch='test_vit')}, ['-c', 's.yml', '-o', 'root'],
     ['src_arch: the networks are named by arch: already']),
    ('arch-and-dest-arch', 'stitch-status', {'s.yml': sweep(dest_arch='test_vit')}, ['-c', 's.yml', '-o', 'root'],
     ['dest_arch: the networks are named by arch: already']),
    ('sweep-metrics-output', 'stitch-sweep', {'s.yml': sweep(metrics_output='all.parquet')},
     ['-c', 's.yml', '-o', 'root'], ["metrics_output: a sweep writes each job's results into the job's own folder"]),
    ('sweep-save-dir', 'stitch-sweep', {'s.yml': sweep(save_dir='runs')}, ['-c', 's.yml', '-o', 'root'],
     ['save_dir: a sweep writes']),
    ('sweep-unknown-stitcher', 'stitch-similarity', {'s.yml': sweep(stitchers=['linear_no_downsampl'])},
     ['-c', 's.yml', '-o', 'root'], ["stitchers[0]: unknown stitcher 'linear_no_downsampl'"]),
    ('sweep-bad-launcher', 'stitch-sweep', {'s.yml': sweep(launcher={'threads': 0})}, ['-c', 's.yml', '-o', 'root'],
     ['launcher.threads: give at least 1']),
    # -- 4. Small but visible
    ('dataset-typo-train', 'stitch-train', {'c.yml': job(dataset='fashion-mnistt')}, ['-c', 'c.yml'],
     ["train_config.dataset: unknown dataset 'fashion-mnistt'. Did you mean 'fashion-mnist'? Use"]),
    ('dataset-typo-sweep', 'stitch-sweep', {'s.yml': sweep(train_config={'dataset': 'cifar-1O'})},
     ['-c', 's.yml', '-o', 'root'], ["unknown dataset 'cifar-1O'. Did you mean 'cifar10' or 'cifar100'? Use"]),
    ('part-class-typo-train', 'stitch-train',
     {'c.yml': job(assembly=[{'SimpleAdaptor': {}}])}, ['-c', 'c.yml'],
     ["assembly[0]: unknown part class 'SimpleAdaptor'. Did you mean 'SimpleAdapter'?"]),
    ('part-frozen-not-bool', 'stitch-train',
     {'c.yml': job(model={'Assembly': [{'Net': {'model_name': 'convnet', 'frozen': 'yes'}}]})}, ['-c', 'c.yml'],
     ['model.Assembly.parts[0].Net.frozen: must be true or false']),
    ('epochs-flag-negative', 'stitch-train', {'c.yml': job()}, ['-c', 'c.yml', '-e', '-1'],
     ['-e/--epochs: must be an integer from 0 to 10,000, got -1']),
    ('batch-size-flag-zero', 'stitch-train', {'c.yml': job()}, ['-c', 'c.yml', '-b', '0'],
     ['-b/--batch-size: must be an integer from 1 to 65,536, got 0']),
    ('lr-flag-negative', 'stitch-train', {'c.yml': job()}, ['-c', 'c.yml', '--lr', '-0.1'],
     ['--lr: must be a number > 0']),
    ('wd-flag-negative', 'stitch-train', {'c.yml': job()}, ['-c', 'c.yml', '--wd', '-1'],
     ['--wd: must be a number >= 0']),
    ('workers-flag-negative', 'stitch-train', {'c.yml': job()}, ['-c', 'c.yml', '--workers', '-2'],
     ['--workers: must be an integer >= 0']),
    ('max-batches-flag-zero', 'stitch-train', {'c.yml': job()}, ['-c', 'c.yml', '-m', '0'],
     ['-m/--max-batches: must be an integer > 0']),
    ('init-flag-unknown', 'stitch-train', {'c.yml': job()}, ['-c', 'c.yml', '--init', 'svd'],
     ["--init: use lstsq, ridge, procrustes, got 'svd'"]),
    ('image-size-flag-check', 'stitch-check', {'c.yml': job()}, ['-c', 'c.yml', '--image-size', '0'],
     ['--image-size: must be an integer from 8 to 4096']),
    ('num-classes-flag-check', 'stitch-check', {'c.yml': job()}, ['-c', 'c.yml', '--num-classes', '0'],
     ['--num-classes: must be an integer > 0']),
    ('parallel-flag-zero', 'stitch-sweep', {'s.yml': sweep()}, ['-c', 's.yml', '-o', 'root', '--parallel', '0'],
     ['--parallel: must be an integer > 0']),
    ('executor-flag-unknown', 'stitch-sweep', {'s.yml': sweep()},
     ['-c', 's.yml', '-o', 'root', '--executor', 'cloud'], ["--executor: use local, slurm, debug, got 'cloud'"]),
    ('chunk-flag-unknown', 'stitch-sweep', {'s.yml': sweep()}, ['-c', 's.yml', '-o', 'root', '--chunk', 'all'],
     ['--chunk: use gap, job']),
    ('seeds-flag-words', 'stitch-sweep', {'s.yml': sweep()}, ['-c', 's.yml', '-o', 'root', '--seeds', '1,two'],
     ['--seeds takes numbers separated by commas']),
    ('lrs-flag-zero', 'stitch-sweep', {'s.yml': sweep()}, ['-c', 's.yml', '-o', 'root', '--lrs', '0'],
     ['--lrs takes numbers separated by commas, each a number > 0']),
    ('sbatch-flag-form', 'stitch-sweep', {'s.yml': sweep()},
     ['-c', 's.yml', '-o', 'root', '--sbatch', 'exclusive'], ['--sbatch takes key=value pairs']),
    ('time-flag-zero', 'stitch-sweep', {'s.yml': sweep()}, ['-c', 's.yml', '-o', 'root', '--time', '0'],
     ['--time: must be an integer > 0']),
    ('fit-examples-flag', 'stitch-similarity', {'s.yml': sweep()},
     ['-c', 's.yml', '-o', 'root', '--fit-examples', '0'], ['--fit-examples: must be an integer > 0']),
    ('similarity-init-flag', 'stitch-similarity', {'s.yml': sweep()},
     ['-c', 's.yml', '-o', 'root', '--init', 'svd'], ['--init: use lstsq, ridge, procrustes']),
    ('stages-size-flag', 'stitch-stages', {}, ['test_resnet', '--size', '0'], ['--size: must be an integer from 8']),
    ('stages-backend-flag', 'stitch-stages', {}, ['test_resnet', '--backend', 'keras'],
     ["--backend: use timm, torchvision, got 'keras'"]),
]

def tree(folder:Path)->dict:
    "Every path under `folder` (links not followed), with its size: what a refused command may not change."
    return {str(p.relative_to(folder)): (p.stat().st_size if p.is_file() else 'dir') for p in sorted(folder.rglob('*'))}

@pytest.fixture
def work(tmp_path, monkeypatch):
    "A working folder two levels below `tmp_path`, as the current folder, on the import path (for factories)."
    (tmp_path/'work').mkdir()
    monkeypatch.chdir(tmp_path/'work')
    monkeypatch.syspath_prepend(str(tmp_path/'work'))
    monkeypatch.setenv('HF_HUB_OFFLINE', '1')
    return tmp_path/'work'

def write(work:Path, files:dict):
    for name, content in files.items():
        p = work/name; p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content) if isinstance(content, bytes) else p.write_text(content)

def run_in_process(command:str, argv:list, monkeypatch):
    "Run `command` as its console script would, in this process: parse `argv`, then call the function."
    fn = getattr(cli, command.replace('-', '_'))
    monkeypatch.setattr(sys, 'argv', [command, *argv])
    pargs, kwargs, _ = parse_cli(fn, pos=['config'] if command == 'stitch-check' else None)
    fn(*pargs, **kwargs)

def one_paragraph(err:str, prog:str, names:list):
    "A clean refusal: one line from `prog`, naming each of `names`, and no traceback."
    assert err.startswith(f'{prog}: error: ') and err.count('\n') == 1, err
    assert 'Traceback' not in err, err
    for n in names: assert n in err, f"{n!r} not in: {err}"

def test_the_table_is_large_and_covers_every_command():
    assert len(CASES) >= 60 and len({c[0] for c in CASES}) == len(CASES)
    assert {c[1] for c in CASES} == {'stitch-train', 'stitch-check', 'stitch-sweep', 'stitch-status', 'stitch-report',
                                     'stitch-zoo', 'stitch-similarity', 'stitch-stages'}

@pytest.mark.parametrize('case,command,files,argv,names', CASES, ids=[c[0] for c in CASES])
def test_hostile_input_is_refused_cleanly(case, command, files, argv, names, work, monkeypatch, capsys):
    write(work, files)
    before = tree(work.parent)
    with pytest.raises(SystemExit) as e: run_in_process(command, argv, monkeypatch)
    assert e.value.code == 2
    one_paragraph(capsys.readouterr().err, command, names)
    assert tree(work.parent) == before                  # nothing written: not here, not in root, not around them

SUBPROCESS = ['latin1-train', 'folder-include', 'epochs-flag-negative', 'metadata-yaml-report', 'resume-from-zip',
              'alias-bomb-sweep', 'gap-outside-network', 'dataset-typo-train']

@pytest.mark.parametrize('case', SUBPROCESS)
def test_the_installed_command_behaves_the_same(case, work):
    _, command, files, argv, names = next(c for c in CASES if c[0] == case)
    write(work, files)
    before = tree(work.parent)
    r = subprocess.run([str(BIN/command), *argv], capture_output=True, text=True, cwd=work,
                       env={**os.environ, 'HF_HUB_OFFLINE': '1'})
    assert r.returncode == 2
    one_paragraph(r.stderr, command, names)
    assert tree(work.parent) == before

def test_status_json_that_is_not_an_object(work, monkeypatch, capsys):
    write(work, {'s.yml': sweep()})
    run_in_process('stitch-sweep', ['-c', 's.yml', '-o', 'root', '--do-not-launch', *TRAIN], monkeypatch)
    for f in (work/'root').rglob('config.yml'): (f.parent/'status.json').write_text('[1, 2]')
    capsys.readouterr()
    with pytest.raises(SystemExit) as e: run_in_process('stitch-status', ['-c', 's.yml', '-o', 'root'], monkeypatch)
    assert e.value.code in (1, 2) and 'Traceback' not in capsys.readouterr().err

def test_stitch_check_takes_c_as_the_readme_says(work, monkeypatch, capsys):
    write(work, {'c.yml': job()})
    run_in_process('stitch-check', ['-c', 'c.yml', '--no-pretrained'], monkeypatch)
    assert capsys.readouterr().out.splitlines()[-1].startswith('input (')

def test_a_failed_run_leaves_no_folder(work, monkeypatch, capsys):
    "A run that fails once the model and data are built writes nothing: no folder, model.json or config copy."
    write(work, {'c.yml': job(epochs=1)})
    import stitchbook.train
    def broken(*a, **k): raise RuntimeError("the GPU fell off the bus")
    monkeypatch.setattr(stitchbook.train, 'evaluate_loader', broken)
    monkeypatch.setattr('stitchbook.job.evaluate_loader', broken)
    with pytest.raises(RuntimeError): cli.stitch_train(Config='c.yml', Output='root', no_pretrained=True)
    assert not (work/'root').exists()
