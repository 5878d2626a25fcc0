"A user's own network, outside any model zoo, reached in tests as 'toy_nets:small_cnn'."
import torch
from torch import nn

class Block(nn.Module):
    def __init__(self, c_in, c_out, stride):
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
    def forward(self, x): return torch.relu(self.bn(self.conv(x)))

class SmallCNN(nn.Module):
    def __init__(self, in_chans=3, num_classes=10):
        super().__init__()
        self.stem = Block(in_chans, 16, 1)
        self.stage1 = Block(16, 32, 2)
        self.stage2 = Block(32, 64, 2)
        self.head = nn.Linear(64, num_classes)
    def forward(self, x):
        x = self.stage2(self.stage1(self.stem(x)))
        return self.head(x.mean((2, 3)))

def small_cnn(in_chans:int=3, num_classes:int=10)->nn.Module: return SmallCNN(in_chans, num_classes)
