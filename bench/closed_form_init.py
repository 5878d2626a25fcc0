"""(c) Accuracy at 0 epochs with closed-form init, as a fraction of the trained accuracy (random init for scale).
Two linear stitches: the same network to itself (where the identity is the answer) and the zoo ResNet into the
zoo ConvNeXt (configs/fmnist-resnet-convnext.yml, across architectures); fits on the first training batch, then
trains 2 epochs. Goal: >= 0.95.

Then why it stops short across architectures: the least-squares fit on more images (the first batch, 256 to 8,192)
barely moves the accuracy at 0 epochs, so the fit is not short of data; a linear map that best reproduces the
destination's features is not the map that best serves its classifier, which training then finds.

    .venv/bin/python bench/closed_form_init.py
"""
import tempfile
from common import same_arch_linear, load_config, ROOT
from stitchbook.job import train_job

ACC = 'Overall/Test Accuracy'

def cross(epochs, **tc):
    "The zoo ResNet (to stage 2) into the zoo ConvNeXt (from stage 3) through a 1x1 convolution."
    cfg = load_config(ROOT/'configs'/'fmnist-resnet-convnext.yml')
    cfg['train_config'].update(epochs=epochs, **tc)
    return cfg

for label, make in (('resnet -> resnet (same network)', same_arch_linear), ('resnet -> convnext', cross)):
    for init in (None, 'lstsq', 'ridge', 'procrustes'):
        table = train_job(make(epochs=2, init=init, batch_size=512), tempfile.mkdtemp(), progress=False)
        zero, trained = table[ACC].iloc[0], table[ACC].iloc[-1]
        print(f"{label}: init={str(init):10s} accuracy at epoch 0: {zero:.4f}   after 2 epochs: {trained:.4f}   "
              f"ratio: {zero / trained:.2f}")

for n in (256, 2048, 8192):
    zero = train_job(cross(epochs=0, init='lstsq', batch_size=n), tempfile.mkdtemp(), progress=False)[ACC].iloc[0]
    print(f"resnet -> convnext: lstsq fitted on {n:5d} images: accuracy at epoch 0: {zero:.4f}")
