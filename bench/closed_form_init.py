"""(c) Accuracy at 0 epochs with closed-form init, as a fraction of the trained accuracy (random init for scale).
Two linear stitches: the same network to itself (where the identity is the answer) and the zoo ResNet into the
zoo ConvNeXt (configs/fmnist-resnet-convnext.yml, across architectures); fits on the first training batch, then
trains 2 epochs.

    .venv/bin/python bench/closed_form_init.py
"""
import tempfile
from common import same_arch_linear, load_config, ROOT
from stitchbook.job import train_job

def cross(epochs, **tc):
    cfg = load_config(ROOT/'configs'/'fmnist-resnet-convnext.yml'); cfg['train_config'].update(epochs=epochs, **tc); return cfg

for label, make in (('resnet -> resnet (same network)', same_arch_linear), ('resnet -> convnext', cross)):
    for init in (None, 'lstsq', 'ridge', 'procrustes'):
        table = train_job(make(epochs=2, init=init, batch_size=512), tempfile.mkdtemp(), progress=False)
        zero, trained = table['Overall/Test Accuracy'].iloc[0], table['Overall/Test Accuracy'].iloc[-1]
        print(f"{label}: init={str(init):10s} accuracy at epoch 0: {zero:.4f}   after 2 epochs: {trained:.4f}   ratio: {zero / trained:.2f}")
