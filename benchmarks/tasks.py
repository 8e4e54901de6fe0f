"""Tasks for the accuracy benchmarks: data made on this machine (nothing downloads), a model with BatchNorm and
residuals, and a fastai `Learner` over plain `DataLoaders` built with one seed for data order, init and pruning.

- `mnist1d`: MNIST-1D (`mnist1d.data.make_dataset`, 4000 train, 1000 test sequences of 40) on a residual 1-D CNN
  (32-64-128 filters, strides, global average pool); a published CNN reaches about 94%.
- `digits32`: scikit-learn's digits upscaled to 32x32, 800 train and 997 test images, each image moved by a random
  affine map (rotation, scale, shear, shift) and noise, fixed once; torchvision's `resnet18(num_classes=10)`, its
  first conv taking one channel.
- `digits96`: the same images upscaled again to 96x96, on torchvision's `mobilenet_v2(num_classes=10)` (first conv on
  one channel): its depthwise convolutions make latency and MACs part ways (`latency_accuracy.py --task digits96`).
"""
import random, functools
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F
import torchvision.models as tvm
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.learner import Learner
from fastai.optimizer import Adam
from fastai.losses import CrossEntropyLossFlat
from fastai.metrics import accuracy

def set_seed(seed:int):
    "Seed Python, NumPy and PyTorch: data order, init and pruning randomness"
    random.seed(seed); np.random.seed(seed); torch.manual_seed(seed)

# --- MNIST-1D ---
@functools.lru_cache(None)
def mnist1d_data():
    "`(x, y, x_test, y_test)` of MNIST-1D, made with the package's default arguments (seed 42)"
    from mnist1d.data import make_dataset, get_dataset_args
    d = make_dataset(get_dataset_args())
    f = lambda x: torch.tensor(x, dtype=torch.float32).unsqueeze(1)
    return f(d['x']), torch.tensor(d['y']), f(d['x_test']), torch.tensor(d['y_test'])

def conv_bn(ni, nf, ks=3, stride=1, act=True):
    layers = [nn.Conv1d(ni, nf, ks, stride, ks // 2, bias=False), nn.BatchNorm1d(nf)]
    return nn.Sequential(*layers, nn.ReLU()) if act else nn.Sequential(*layers)

class Res1d(nn.Module):
    "Two convs and BatchNorm with an identity shortcut"
    def __init__(self, nf): super().__init__(); self.body = nn.Sequential(conv_bn(nf, nf), conv_bn(nf, nf, act=False))
    def forward(self, x): return F.relu(x + self.body(x))

def mnist1d_model():
    "Residual 1-D CNN: 32-64-128 filters, two stride-2 convs, global average pool, linear head"
    return nn.Sequential(conv_bn(1, 32, 5), conv_bn(32, 64, stride=2), Res1d(64), conv_bn(64, 128, stride=2), Res1d(128),
                         nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Linear(128, 10))

# --- digits upscaled to 32x32, moved and noisy ---
def jitter(x, rot=25, scale=(0.75, 1.15), shear=0.15, shift=0.15, noise=0.25, seed=0):
    "Every image of `x` (N,1,H,W) through its own random affine map, then Gaussian noise: fixed by `seed`"
    g = torch.Generator().manual_seed(seed)
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(len(x), generator=g)
    a, s, sh = u(-rot, rot) * np.pi / 180, u(*scale), u(-shear, shear)
    cos, sin = torch.cos(a) / s, torch.sin(a) / s
    theta = torch.stack([torch.stack([cos, -sin + sh, u(-shift, shift) * 2], 1),
                         torch.stack([sin, cos, u(-shift, shift) * 2], 1)], 1)
    out = F.grid_sample(x, F.affine_grid(theta, x.shape, align_corners=False), align_corners=False)
    return out + noise * torch.randn(out.shape, generator=g)

@functools.lru_cache(None)
def digits32_data(n_train=800):
    "`(x, y, x_test, y_test)`: digits at 32x32, `n_train` for training and the rest for test, all jittered once"
    from sklearn.datasets import load_digits
    X, y = load_digits(return_X_y=True)
    X = F.interpolate(torch.tensor(X, dtype=torch.float32).view(-1, 1, 8, 8) / 16., size=32, mode='bilinear', align_corners=False)
    perm = torch.randperm(len(X), generator=torch.Generator().manual_seed(0))
    X, y = X[perm], torch.tensor(y)[perm]
    X = (jitter(X, seed=1) - 0.1) / 0.3
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:]

def digits32_model():
    "torchvision's resnet18 for 10 classes, on one input channel"
    m = tvm.resnet18(num_classes=10)
    m.conv1 = nn.Conv2d(1, 64, 7, 2, 3, bias=False)
    return m

@functools.lru_cache(None)
def digits96_data(n_train=800):
    "`digits32_data`'s images, upscaled again to 96x96"
    x, y, xt, yt = digits32_data(n_train)
    up = lambda t: F.interpolate(t, size=96, mode='bilinear', align_corners=False)
    return up(x), y, up(xt), yt

def digits96_model():
    "torchvision's mobilenet_v2 for 10 classes, on one input channel: depthwise convolutions, whose latency does not follow their MACs"
    m = tvm.mobilenet_v2(num_classes=10)
    m.features[0][0] = nn.Conv2d(1, 32, 3, 2, 1, bias=False)
    return m

TASKS = {  # data, model, epochs, lr, batch size
    'mnist1d':  dict(data=mnist1d_data,  model=mnist1d_model,  epochs=8, lr=1e-2, bs=128),
    'digits32': dict(data=digits32_data, model=digits32_model, epochs=6, lr=3e-3, bs=64),
}
ALL_TASKS = {**TASKS, 'digits96': dict(data=digits96_data, model=digits96_model, epochs=6, lr=3e-3, bs=64)}  # the accuracy benchmark runs `TASKS`

def task_learner(task:str, seed:int)->Learner:
    "A fresh learner for `task`: the same data for every seed; data order and init from `seed`"
    x, y, xt, yt = ALL_TASKS[task]['data']()
    set_seed(seed)
    dls = DataLoaders(DataLoader(list(zip(x, y)), bs=ALL_TASKS[task]['bs'], shuffle=True), DataLoader(list(zip(xt, yt)), bs=500))
    return Learner(dls, ALL_TASKS[task]['model'](), loss_func=CrossEntropyLossFlat(), opt_func=Adam, metrics=accuracy)

def example_input(task:str): return ALL_TASKS[task]['data']()[0][:1]
