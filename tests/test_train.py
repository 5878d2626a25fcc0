"""The stitch-training job: end to end on the example configs, exact resume after SIGKILL, NaN handling, test-only,
smoke test, atomic results, the activation cache, and frozen parts that stay frozen."""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import pandas as pd, pytest, torch, yaml
from stitchbook.config import load_config
from stitchbook.job import train_job, load_results
from stitchbook.files import atomic_write
from stitchbook.train import Diverged
from stitchbook.data import DEBIAN_FMNIST

pytestmark = pytest.mark.skipif(not DEBIAN_FMNIST.exists(), reason="needs Fashion-MNIST (./run.sh test installs it)")
ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent

def small(name='fmnist-resnet-convnext.yml', **tc):
    "An example config on a 2,000-image subset, so a job takes seconds."
    cfg = load_config(ROOT/'configs'/name)
    cfg['train_config'].update({'batch_size': 100, 'epochs': 3, **tc})
    cfg['train_config']['data_preprocessing'].update(subset=2000, test_subset=1000)
    return cfg

def write(cfg, folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder/'job.yml').write_text(yaml.safe_dump(dict(cfg), sort_keys=False))
    return folder/'job.yml'

def not_time(df): return df[[c for c in df.columns if not c.startswith('Time/')]]

@pytest.mark.parametrize('name', ['fmnist-resnet-convnext.yml', 'fmnist-resnet-vit.yml'])
def test_stitch_train_cli_end_to_end(name, tmp_path):
    cfg = write(small(name), tmp_path/'job')
    r = subprocess.run([str(BIN/'stitch-train'), '-c', str(cfg), '--no-pretrained', '-e', '2', '--save-checkpoints'],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    folder = tmp_path/'job'
    table = load_results(folder/'result-0.parquet')
    assert list(table.Epoch) == [0, 1, 2] and list(table.Step) == [0, 20, 40]
    assert {'Overall/Train Loss', 'Overall/Train Accuracy', 'Overall/Test Accuracy', 'Time/Train', 'Time/Images per Second'} <= set(table.columns)
    assert table['Overall/Train Loss'].iloc[-1] < table['Overall/Train Loss'].iloc[1]
    ran = yaml.safe_load((folder/'result-0.config.yml').read_text())
    assert ran['train_config']['epochs'] == 2
    assert json.loads((folder/'model.json').read_text())['preprocessing']['channels'] == 1   # what the images got
    assert {'checkpoint-last.pt', 'checkpoint-epoch-1.pt', 'checkpoint-epoch-2.pt'} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder/'status.json').read_text())['state'] == 'done'
    torch.load(folder/'checkpoint-last.pt', weights_only=True)            # loads with the safe loader

def test_resume_after_sigkill_equals_an_uninterrupted_run(tmp_path):
    cfg = small(epochs=4, batch_size=50)
    cfg['train_config']['data_preprocessing']['subset'] = 4000
    ref = train_job(write(cfg, tmp_path/'whole'), pretrained=False, progress=False, deterministic=True, activation_cache=False)
    job = write(cfg, tmp_path/'killed')
    cmd = [str(BIN/'stitch-train'), '-c', str(job), '--no-pretrained', '--deterministic', '--no-cache']
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoint, results = tmp_path/'killed'/'checkpoint-last.pt', tmp_path/'killed'/'result-0.parquet'
    deadline = time.time() + 300
    while time.time() < deadline and not checkpoint.exists() and p.poll() is None: time.sleep(0.01)
    p.send_signal(signal.SIGKILL); p.wait()                                # in epoch 2, after epoch 1's checkpoint
    done_before = len(pd.read_parquet(results))
    assert 2 <= done_before < 5, f"the job was not killed mid-run ({done_before} rows)"
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    assert 'resumed from' in r.stdout
    pd.testing.assert_frame_equal(not_time(load_results(results)), not_time(ref))

@pytest.mark.slow
@pytest.mark.parametrize('trial', range(5))
def test_resume_after_sigkill_at_a_random_point_equals_an_uninterrupted_run(tmp_path, trial):
    "kill -9 at a seeded random moment of the run (setup, any epoch, a checkpoint write), rerun: the same final table."
    import random
    cfg = small(epochs=3, batch_size=50)
    ref = train_job(write(cfg, tmp_path/'whole'), pretrained=False, progress=False, deterministic=True, activation_cache=False)
    job = write(cfg, tmp_path/'killed')
    cmd = [str(BIN/'stitch-train'), '-c', str(job), '--no-pretrained', '--deterministic', '--no-cache']
    t0 = time.time()
    subprocess.run(cmd, capture_output=True)                              # how long one whole run takes here
    whole = time.time() - t0
    for f in (tmp_path/'killed').iterdir():
        if f != job: f.unlink()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.Random(trial).uniform(0.3, 0.95) * whole)
    p.send_signal(signal.SIGKILL); p.wait()
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]
    pd.testing.assert_frame_equal(not_time(load_results(tmp_path/'killed'/'result-0.parquet')), not_time(ref))

def test_nan_loss_stops_with_the_step_and_marks_the_folder_failed(tmp_path):
    cfg = small(optimizer='SGD', optimizer_args={'lr': 1e30})
    with pytest.raises(Diverged, match=r"the loss is (nan|inf) at step \d+ \(epoch 1\); lower the learning rate"):
        train_job(write(cfg, tmp_path), pretrained=False, progress=False)
    status = json.loads((tmp_path/'status.json').read_text())
    assert status['state'] == 'failed' and 'diverged' in status['error']

def test_test_only_with_load_from_reproduces_the_last_test_accuracy(tmp_path):
    cfg = small(epochs=1)
    table = train_job(write(cfg, tmp_path/'train'), pretrained=False, progress=False)
    test = train_job(write(cfg, tmp_path/'eval'), pretrained=False, progress=False, test_only=True,
                     load_from=str(tmp_path/'train'/'checkpoint-last.pt'))
    assert len(test) == 1
    assert test['Overall/Test Accuracy'].iloc[0] == pytest.approx(table['Overall/Test Accuracy'].iloc[-1], abs=1e-6)

def test_smoke_test_runs_two_batches(tmp_path):
    table = train_job(write(small(), tmp_path), pretrained=False, progress=False, smoke_test=True)
    assert list(table.Step) == [0, 2]

def test_results_are_written_atomically(tmp_path):
    target = tmp_path/'result-0.parquet'
    pd.DataFrame({'Epoch': [0]}).to_parquet(target)
    def half_then_crash(p):
        p.write_bytes(b'PAR1 half a file'); raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt): atomic_write(target, half_then_crash)
    assert list(pd.read_parquet(target).Epoch) == [0] and [p.name for p in tmp_path.iterdir()] == ['result-0.parquet']

def test_activation_cache_gives_the_same_metrics(tmp_path, capsys):
    cfg = small(epochs=2)
    on = train_job(write(cfg, tmp_path/'on'), pretrained=False)
    assert 'activation cache: on' in capsys.readouterr().out
    off = train_job(write(cfg, tmp_path/'off'), pretrained=False, activation_cache=False)
    assert 'activation cache: off (switched off)' in capsys.readouterr().out
    pd.testing.assert_frame_equal(not_time(on), not_time(off), atol=1e-4, rtol=1e-4)

def test_frozen_parameters_and_statistics_do_not_change(tmp_path):
    from stitchbook.job import prepare, apply_overrides
    from stitchbook.train import train_epoch
    cfg = apply_overrides(small(epochs=1), device='cpu')
    run = prepare(cfg, tmp_path, pretrained=False, progress=False, activation_cache=False)
    frozen = {k: v.clone() for s in run.model.steps if s.frozen for k, v in s.state_dict().items()}
    adapter = {k: v.clone() for k, v in run.model.steps[1].state_dict().items()}
    train_epoch(run)
    after = {k: v for s in run.model.steps if s.frozen for k, v in s.state_dict().items()}
    assert any('running_mean' in k for k in frozen) and all(torch.equal(frozen[k], after[k]) for k in frozen)
    assert not all(torch.equal(adapter[k], v) for k, v in run.model.steps[1].state_dict().items())

def test_multi_task_training_interleaves_tasks_and_reports_each(tmp_path):
    cfg = small(epochs=1)
    tc = cfg['train_config']
    tc['tasks'] = [{'dataset': 'fashion-mnist'},
                   {'dataset': 'fashion-mnist', 'data_augmentation': ['hflip'], 'data_preprocessing': {'subset': 1000}}]
    del tc['dataset']
    table = train_job(write(cfg, tmp_path/'tasks'), pretrained=False, progress=False)
    assert list(table.Step) == [0, 30]                                   # 20 + 10 batches of 100
    names = ['task0-fashion-mnist', 'task1-fashion-mnist']
    assert all(f'{n}/Test Accuracy' in table.columns for n in names)
    overall = table['Overall/Test Accuracy'].iloc[-1]
    assert overall == pytest.approx(table[[f'{n}/Test Accuracy' for n in names]].iloc[-1].mean(), abs=1e-9)   # equal test sets
    tc['tasks'][1]['data_preprocessing']['image_size'] = 28
    with pytest.raises(Exception, match=r"train_config.tasks\[1\]: gives images of shape \(1, 28, 28\)"):
        train_job(write(cfg, tmp_path/'bad'), pretrained=False, progress=False)

def test_amp_and_channels_last_run(tmp_path):
    "bf16 autocast and channels-last memory (meant for GPUs) also run on the CPU; a GPU session should time them."
    table = train_job(write(small(epochs=1), tmp_path), pretrained=False, progress=False, amp=True, channels_last=True,
                      activation_cache=False)
    assert table['Overall/Train Loss'].notna().all() and table['Overall/Train Loss'].iloc[-1] < table['Overall/Train Loss'].iloc[0]
