"""A researcher's own code, outside any model zoo: two small CNNs of different architectures, their factories (which
load the weights the test trained, and share the data config they were trained with), and Dataset factories.
Reached in tests as 'digit_nets:plain_net', 'digit_nets:res_net', 'digit_nets:digit_datasets'."""
import os
from pathlib import Path
import numpy as np
import torch
from torch import nn

def conv_bn(c_in, c_out, k=3, stride=1):
    return nn.Sequential(nn.Conv2d(c_in, c_out, k, stride, k // 2, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())

class PlainNet(nn.Module):
    "Three plain conv stages, global pooling, a linear classifier."
    def __init__(self, in_chans=1, num_classes=10):
        super().__init__()
        self.stem = conv_bn(in_chans, 16)
        self.layer1 = conv_bn(16, 32, stride=2)
        self.layer2 = conv_bn(32, 64, stride=2)
        self.fc = nn.Linear(64, num_classes)
    def forward(self, x): return self.fc(self.layer2(self.layer1(self.stem(x))).mean((2, 3)))

class Residual(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.body = nn.Sequential(conv_bn(c_in, c_out, stride=2), nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False),
                                  nn.BatchNorm2d(c_out))
        self.skip = nn.Sequential(nn.Conv2d(c_in, c_out, 1, 2, bias=False), nn.BatchNorm2d(c_out))
    def forward(self, x): return torch.relu(self.body(x) + self.skip(x))

class ResNetLike(nn.Module):
    "A 5x5 stem and two residual stages with other widths, and a classifier behind a dropout."
    def __init__(self, in_chans=1, num_classes=10):
        super().__init__()
        self.stem = conv_bn(in_chans, 24, k=5)
        self.stage1 = Residual(24, 48)
        self.stage2 = Residual(48, 96)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.1), nn.Linear(96, num_classes))
    def forward(self, x): return self.head(self.stage2(self.stage1(self.stem(x))).mean((2, 3), keepdim=True))

def _load(model, name, pretrained):
    if pretrained:
        saved = torch.load(Path(os.environ['DIGIT_NETS_DIR'])/f"{name}.pt", weights_only=True)
        model.load_state_dict(saved['model'])
        model.pretrained_cfg = {'mean': tuple(saved['mean']), 'std': tuple(saved['std']), 'input_size': (1, 28, 28)}
    return model

def plain_net(pretrained=False, in_chans=1, num_classes=10): return _load(PlainNet(in_chans, num_classes), 'plain_net', pretrained)
def res_net(pretrained=False, in_chans=1, num_classes=10): return _load(ResNetLike(in_chans, num_classes), 'res_net', pretrained)

def digit_datasets(path):
    "(train, test) from the test's .npz, as torch Datasets of (uint8 image tensor, label)."
    z = np.load(path)
    make = lambda x, y: torch.utils.data.TensorDataset(torch.from_numpy(z[x])[:, None], torch.from_numpy(z[y]))
    return make('x_train', 'y_train'), make('x_test', 'y_test')

def one_dataset(path): return digit_datasets(path)[0]
