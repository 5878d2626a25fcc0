"The main job's sweep configs (configs/embedded/): both pairs plan, every applicable job builds, the stitchers are the defaults."
from pathlib import Path
import torch, yaml
import pandas as pd
from stitchbook.assembly import model_from_config
from stitchbook.experiments import plan_experiment

CONFIGS = Path(__file__).resolve().parents[1]/'configs'/'embedded'

def test_embedded_sweep_plans_a_same_arch_and_a_cross_arch_pair_and_every_job_builds(tmp_path):
    both = pd.concat([plan_experiment(CONFIGS/f'{n}.yml', tmp_path, n) for n in ('resnet', 'resnet-vit')], ignore_index=True)
    reps = both[both.replicate_of.fillna('') != '']                          # seeds [0, 1]: every trained job twice
    originals = both[(both.role == 'stitch') & both.applies & (both.replicate_of.fillna('') == '')]
    assert set(reps.role) == {'stitch'} and len(reps) == len(originals) == 135
    assert {c['train_config']['seed'] for c in reps.config} == {1}
    assert {c['train_config']['data_preprocessing']['subset_seed'] for c in reps.config} == {0}
    p = both[both.replicate_of.fillna('') == '']
    stitchers = yaml.safe_load((CONFIGS/'stitchers.yml').read_text())
    jobs = p[p.role == 'stitch']
    assert set(jobs.adapter) == set(stitchers) and len(stitchers) == 10
    same, cross = jobs[jobs.sweep == 'resnet'], jobs[jobs.sweep == 'resnet-vit']
    assert set(same.arch) == {'fmnist_resnet'} and set(cross.arch) == {'fmnist_resnet-fmnist_vit'}
    assert len(same) == 10 * 10 and len(cross) == 5 * 10                     # every gap x stitcher is planned
    assert same.applies.sum() == 90 and cross.applies.sum() == 45                # all but finetune (no formats line up)
    assert (same.same_as != '').sum() == 0 and (cross.same_as != '').sum() == 10 # 4 px into the ViT's 4x4 grid: 5 twins a gap
    assert set(cross[cross.same_as != ''].first_deleted_block) == {3}
    parents = p[p.role == 'parent']
    assert sorted(parents.parent_of) == ['both', 'dest', 'source'] and parents.applies.all()
    nets, x = {}, torch.randn(2, 1, 32, 32)                                  # random weights, shared between the builds
    for cfg in p[p.applies & (p.same_as == '')].config:                    # a twin's config is its original's
        model = model_from_config(cfg, (1, 32, 32), pretrained=False, networks=nets).eval()
        with torch.no_grad(): assert model(x).shape == (2, 10)
