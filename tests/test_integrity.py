"""Files that are there but damaged: checkpoints verified by SHA-256 before they load, results tables that are read or
named (and rebuilt by re-running the job), zoo weights that are the same file whoever trains them, a zoo that
`stitch-check` does not train, and a results index that gives the table the plain read gives."""
import json, os, random, shutil, socket, subprocess, sys
from pathlib import Path
import numpy as np, pandas as pd, pytest, torch, yaml
from stitchbook import jobs, zoo
from stitchbook.errors import UserError
from stitchbook.results import collect, final, ACC

BIN = Path(sys.executable).parent

# ---- checkpoints -----------------------------------------------------------------------------------------------------
STATE = {'epoch': 2, 'rows': [{'Epoch': 0}, {'Epoch': 1}], 'weight': torch.arange(4096.), 'fingerprint': 'abc'}

def _write(folder, state=STATE):
    jobs.write_checkpoint(jobs.checkpoint_file(folder), state)
    return jobs.checkpoint_file(folder)

def _bit_flip(path):
    "Flip one bit inside the record of the tensor `weight` (not in the zip's headers): `torch.load` still loads it."
    data = bytearray(path.read_bytes())
    at = bytes(data).index(torch.arange(4096.).numpy().tobytes()) + 8000
    data[at] ^= 0x04
    path.write_bytes(bytes(data))

def _truncate(path): path.write_bytes(path.read_bytes()[:path.stat().st_size * 2 // 3])

def _garble(path):
    data = bytearray(path.read_bytes())
    for i in random.Random(0).sample(range(len(data)), 64): data[i] = random.Random(i).randrange(256)
    path.write_bytes(bytes(data))

@pytest.mark.parametrize('damage', [_bit_flip, _truncate, _garble])
def test_a_damaged_checkpoint_is_a_clear_error_naming_the_file_and_the_fix(tmp_path, damage):
    path = _write(tmp_path)
    damage(path)
    with pytest.raises(jobs.DamagedFile) as e: jobs.read_checkpoint(path)
    msg = str(e.value)
    assert isinstance(e.value, UserError) and str(path) in msg and 'SHA-256' in msg
    assert 'delete it and checkpoint-last.pt.sha256: the job then restarts from scratch' in msg

def test_a_bit_flip_loads_silently_without_the_hash(tmp_path):
    "Why the hash: `weights_only=True` refuses code, not wrong numbers."
    path = _write(tmp_path); _bit_flip(path)
    loaded = torch.load(path, weights_only=True)
    assert not loaded['weight'].equal(STATE['weight'])

@pytest.mark.parametrize('damage', [_truncate, _garble])
def test_a_checkpoint_without_a_hash_that_does_not_load_is_the_same_clear_error(tmp_path, damage):
    path = _write(tmp_path); jobs.checksum_file(path).unlink()
    assert jobs.read_checkpoint(path)['epoch'] == 2                  # made elsewhere: loaded as it is
    damage(path)
    with pytest.raises(jobs.DamagedFile, match='cannot be loaded'): jobs.read_checkpoint(path)

def test_the_fix_names_the_last_epoch_kept(tmp_path):
    for epoch in (2, 9, 10): jobs.write_checkpoint(jobs.checkpoint_file(tmp_path, epoch), STATE)
    path = _write(tmp_path); _truncate(path)
    with pytest.raises(jobs.DamagedFile, match=r'--resume-from \S*checkpoint-epoch-10\.pt$'): jobs.read_checkpoint(path)

def test_deleting_the_damaged_checkpoint_recovers(tmp_path):
    path = _write(tmp_path); _garble(path)
    path.unlink()                                                     # the documented fix
    assert not jobs.has_run(tmp_path)
    _write(tmp_path, {**STATE, 'epoch': 1})
    assert jobs.read_checkpoint(path)['epoch'] == 1

def test_a_kill_between_the_hash_and_the_rename_leaves_a_checkpoint_that_verifies(tmp_path, monkeypatch):
    path = _write(tmp_path)
    real = jobs.atomic_write
    def killed_at_the_rename(target, write):
        if Path(target) == path: raise KeyboardInterrupt         # the new checkpoint never replaces the old one
        real(target, write)
    monkeypatch.setattr(jobs, 'atomic_write', killed_at_the_rename)
    with pytest.raises(KeyboardInterrupt): jobs.write_checkpoint(path, {**STATE, 'epoch': 3})
    monkeypatch.undo()
    assert len(jobs.checksum_file(path).read_text().split()) == 2 and jobs.read_checkpoint(path)['epoch'] == 2
    jobs.write_checkpoint(path, {**STATE, 'epoch': 3})
    assert len(jobs.checksum_file(path).read_text().split()) == 1 and jobs.read_checkpoint(path)['epoch'] == 3

def test_the_same_state_gives_the_same_file_and_clear_removes_the_hashes(tmp_path):
    a, b = tmp_path/'a', tmp_path/'b'
    a.mkdir(); b.mkdir()
    assert _write(a).read_bytes() == _write(b).read_bytes()
    jobs.write_checkpoint(jobs.checkpoint_file(a, 1), STATE)
    assert jobs.clear(a) and sorted(p.name for p in a.iterdir()) == ['.lock']       # the lock is never removed

# ---- results tables --------------------------------------------------------------------------------------------------
def fake_job(root, name, acc=None, role='stitch', gap=1, status='done'):
    "A finished job folder, as the notebook `19_results` makes them: metadata, status, a results table."
    f = root/'sweep'/name; f.mkdir(parents=True)
    meta = dict(arch='net', num_downsamples=0, sweep='sweep', role=role, first_deleted_block=gap,
                last_deleted_block=gap, adapter='parent' if role == 'parent' else f'a{gap}',
                **({'parent_of': 'both'} if role == 'parent' else {}))
    jobs.metadata_file(f).write_text(yaml.safe_dump(meta))
    jobs.model_file(f).write_text(json.dumps({'params': 10, 'trainable_params': 2, 'flops': 100 - gap,
                                              'input_shape': [1, 28, 28]}))
    if acc is not None: pd.DataFrame({'Epoch': range(len(acc)), ACC: acc}).to_parquet(jobs.result_file(f, 0))
    jobs.write_status(f, status)
    return f

@pytest.fixture
def sweep(tmp_path):
    root = tmp_path/'root'
    fake_job(root, 'parent', [0.9], role='parent', gap=0)
    for gap in (1, 2, 3): fake_job(root, f'gap-{gap}', [0.1, 0.5 + gap / 10], gap=gap)
    return root

def test_a_done_job_needs_a_table_it_can_read(sweep):
    job = sweep/'sweep'/'gap-2'
    assert jobs.state(job) == 'done'
    _truncate(jobs.result_file(job, 0))
    assert jobs.state(job) == 'failed'                               # so a relaunch runs it again
    with pytest.raises(jobs.DamagedFile, match='rewrites the table from its checkpoint'): jobs.results(job)

def test_collect_skips_a_damaged_table_with_a_warning_naming_it(sweep):
    bad = jobs.result_file(sweep/'sweep'/'gap-2', 0)
    _truncate(bad)
    for index in (False, True, True):                                # each time, the index notwithstanding
        with pytest.warns(UserWarning, match=str(bad)): df = collect(sweep, index=index)
        f = final(df).set_index('adapter')
        assert f.loc['a2', 'state'] == 'failed' and np.isnan(f.loc['a2', ACC])
        assert f.loc[['a1', 'a3'], ACC].tolist() == [0.6, 0.8] and (f.loc[['a1', 'a3'], 'state'] == 'done').all()

def test_stitch_report_names_the_damaged_table_and_builds_the_rest(sweep):
    bad = jobs.result_file(sweep/'sweep'/'gap-3', 0)
    _garble(bad)
    r = subprocess.run([str(BIN/'stitch-report'), str(sweep)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-2000:]
    assert str(bad) in r.stderr and 'Traceback' not in r.stderr
    assert (sweep/'report.html').is_file() and len(pd.read_parquet(sweep/'results.parquet')) == 1 + 2 * 2 + 1

# ---- the zoo ---------------------------------------------------------------------------------------------------------
TINY = {'tiny': zoo.ZooSpec('tiny', 'test_resnet', epochs=1)}

@pytest.fixture
def untrained(monkeypatch):
    "`train_zoo_model` swapped for one that returns the same seeded network at once, counting its calls."
    calls = []
    def train(spec, data_path=None, progress=True):
        calls.append(spec.name); torch.manual_seed(0)
        return zoo.build_zoo_arch(spec), 0.5, 0.1
    monkeypatch.setattr(zoo, 'train_zoo_model', train)
    return calls

def test_the_same_weights_give_the_same_sha256_whichever_process_saves_them(tmp_path, monkeypatch, untrained):
    shas = []
    for pid in (4242, 777777):                 # the temporary file's name holds the pid; torch.save wrote it inside
        monkeypatch.setattr(os, 'getpid', lambda: pid)
        entry, = zoo.ensure_zoo(specs=TINY, zoo_dir=tmp_path, force=True, progress=False)
        shas.append(entry['sha256'])
    assert shas[0] == shas[1] and len(untrained) == 2

def test_a_command_that_does_not_train_names_stitch_zoo_instead(tmp_path, untrained):
    zoo.ensure_zoo(specs=TINY, zoo_dir=tmp_path, progress=False)
    with open(tmp_path/'tiny.pt', 'r+b') as f: f.seek(200); f.write(b'damaged')
    with zoo.no_training('stitch-check'):
        with pytest.raises(UserError, match=r"tiny\.pt does not match its SHA-256.*stitch-zoo --names tiny"):
            zoo.ensure_zoo(specs=TINY, zoo_dir=tmp_path, progress=False)
    assert untrained == ['tiny']                                     # trained once, before: not again
    zoo.ensure_zoo(specs=TINY, zoo_dir=tmp_path, progress=False)      # outside the block it trains, as before
    assert untrained == ['tiny', 'tiny']

# ---- the results index -----------------------------------------------------------------------------------------------
def same_as_plain(root, **kw):
    df = collect(root, **kw)
    pd.testing.assert_frame_equal(df, collect(root, index=False, workers=1, **kw))
    return df

def test_the_index_gives_the_table_the_plain_read_gives(sweep):
    fake_job(sweep, 'gap-9', None, gap=9, status='failed')           # a failed job, no table
    other = fake_job(sweep.parent/'other', 'gap-1', [0.3, 0.4])       # a sweep folder with other columns
    pd.DataFrame({'Epoch': [0, 1], ACC: [0.3, 0.4], 'Overall/Val Accuracy': [0.2, 0.5]}).to_parquet(
        jobs.result_file(other, 0))
    first = same_as_plain(sweep)                                     # writes the index
    assert (sweep/'sweep'/'results-index.parquet').is_file()
    pd.testing.assert_frame_equal(same_as_plain(sweep), first)       # from the index
    new = fake_job(sweep, 'gap-4', [0.2, 0.7], gap=4)                # a job came
    pd.DataFrame({'Epoch': [0, 1, 2], ACC: [0.2, 0.7, 0.75]}).to_parquet(jobs.result_file(sweep/'sweep'/'gap-1', 0))
    df = same_as_plain(sweep)                                        # one changed
    assert final(df).set_index('adapter').loc['a1', ACC] == 0.75 and str(new) in set(df.folder)
    shutil.rmtree(sweep/'sweep'/'gap-2')                             # one went
    assert 'a2' not in set(same_as_plain(sweep).adapter)

def test_the_index_is_used_and_only_a_cache(sweep, monkeypatch):
    same_as_plain(sweep)
    read = []
    real = jobs.read_metadata
    monkeypatch.setattr(jobs, 'read_metadata', lambda f: read.append(Path(f).name) or real(f))
    jobs.write_status(sweep/'sweep'/'gap-3', 'done')                 # rewritten: read again
    same_as_plain(sweep)
    assert read.count('gap-3') == 2 and read.count('gap-1') == 1     # the index read once, the plain read once
    (sweep/'sweep'/'results-index.parquet').write_bytes(b'not parquet')
    same_as_plain(sweep)                                             # a damaged index is rebuilt
    pd.read_parquet(sweep/'sweep'/'results-index.parquet')

def test_a_running_job_is_read_every_time(sweep):
    job, child = sweep/'sweep'/'gap-1', subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        jobs.write_status(job, 'running', host=socket.gethostname(), pid=child.pid)
        assert final(same_as_plain(sweep)).set_index('adapter').loc['a1', 'state'] == 'running'
    finally: child.kill(); child.wait()
    # no file changed, but its process is gone
    assert final(same_as_plain(sweep)).set_index('adapter').loc['a1', 'state'] == 'interrupted'

# ---- end to end through stitch-train: `save_checkpoint` writes through `jobs.write_checkpoint`, `resume` reads through
# `jobs.read_checkpoint` inside the `try` that records failures, and the table is written again from the checkpoint's rows.
from stitchbook.data import DEBIAN_FMNIST
needs_data = pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="needs Fashion-MNIST (./run.sh test installs it)")

def tiny_job(folder:Path)->Path:
    "A two-epoch job on 500 images, in `folder`: seconds."
    from stitchbook.config import load_config
    cfg = load_config(Path(__file__).parents[1]/'configs'/'fmnist-resnet-convnext.yml')
    cfg['train_config'].update(batch_size=100, epochs=2)
    cfg['train_config']['data_preprocessing'].update(subset=500, test_subset=200)
    folder.mkdir(parents=True)
    (folder/'config.yml').write_text(yaml.safe_dump(dict(cfg), sort_keys=False))
    return folder/'config.yml'

@needs_data
@pytest.mark.parametrize('damage', [_truncate, _garble])
def test_stitch_train_on_a_damaged_checkpoint_fails_clearly_then_recovers_once_it_is_deleted(tmp_path, damage, capsys):
    from stitchbook.cli import stitch_train
    cfg = tiny_job(tmp_path/'job'); folder = cfg.parent
    stitch_train(Config=str(cfg), no_pretrained=True)
    done = pd.read_parquet(jobs.result_file(folder, 0))
    damage(jobs.checkpoint_file(folder))
    with pytest.raises(SystemExit) as e: stitch_train(Config=str(cfg), no_pretrained=True)
    err = capsys.readouterr().err
    assert e.value.code == 2 and str(jobs.checkpoint_file(folder)) in err and 'Traceback' not in err
    status = jobs.read_status(folder)
    assert status['state'] == 'failed' and 'checkpoint-last.pt' in status['error']
    jobs.checkpoint_file(folder).unlink()                            # the fix the message gives
    stitch_train(Config=str(cfg), no_pretrained=True)
    assert jobs.state(folder) == 'done'
    pd.testing.assert_frame_equal(pd.read_parquet(jobs.result_file(folder, 0)).drop(columns=['Time/Train', 'Time/Test',
        'Time/Images per Second']), done.drop(columns=['Time/Train', 'Time/Test', 'Time/Images per Second']))

@needs_data
def test_a_finished_job_whose_table_is_damaged_is_rebuilt_from_its_checkpoint(tmp_path):
    from stitchbook.job import train_job
    cfg = tiny_job(tmp_path/'job'); folder = cfg.parent
    train_job(cfg, pretrained=False, progress=False)
    done = pd.read_parquet(jobs.result_file(folder, 0))
    _truncate(jobs.result_file(folder, 0))
    assert jobs.state(folder) == 'failed'                            # so the launcher runs it again
    train_job(cfg, pretrained=False, progress=False)
    assert jobs.state(folder) == 'done'
    pd.testing.assert_frame_equal(pd.read_parquet(jobs.result_file(folder, 0)), done)   # the same rows, epoch times too
