"""Cost of `PruneCallback` in a fastai fit, side by side in one run (this machine is noisy, so read the ratios).

1. Fit time on scikit-learn's digits with a small CNN: no callback, the callback at 0%, the callback with agp to 50%.
2. On resnet18 and resnet50 (synthetic 64x64 images): milliseconds spent in the callback per batch without a
   prune event, and per prune event.

    python benchmarks/callback.py [--epochs 5] [--repeats 3]
"""
import argparse, statistics, time, warnings
import torch, torch.nn as nn
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.learner import Learner
from fastai.callback.schedule import fit_one_cycle
from fastai.optimizer import Adam
from fastai.losses import CrossEntropyLossFlat
from sklearn.datasets import load_digits
import torchvision.models as tvm
from fasterprune.all import *

def digits_learner():
    X, y = load_digits(return_X_y=True)
    X = torch.tensor(X, dtype=torch.float32).view(-1, 1, 8, 8) / 16.
    y = torch.tensor(y)
    torch.manual_seed(0)
    dls = DataLoaders(DataLoader(list(zip(X[:1437], y[:1437])), bs=64, shuffle=True), DataLoader(list(zip(X[1437:], y[1437:])), bs=256))
    model = nn.Sequential(nn.Conv2d(1, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(),
                          nn.Conv2d(64, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(128, 128, 3, padding=1), nn.BatchNorm2d(128), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(128, 10))
    return Learner(dls, model, loss_func=CrossEntropyLossFlat(), opt_func=Adam)

def timed_fit(epochs, cbs):
    learn = digits_learner()
    t = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, 3e-3, cbs=cbs)
    return time.perf_counter() - t

class Timer(PruneCallback):
    "PruneCallback that times its own after_batch"
    def before_fit(self): super().before_fit(); self.quiet, self.events_t = [], []
    def after_batch(self):
        n, t = self._next, time.perf_counter()
        super().after_batch()
        (self.events_t if self._next != n else self.quiet).append(time.perf_counter() - t)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=5)
    ap.add_argument('--repeats', type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter('ignore')
    runs = {'no callback': [], 'callback, 0%': [], 'callback, agp to 50%': []}
    for _ in range(args.repeats):  # interleaved
        runs['no callback'].append(timed_fit(args.epochs, []))
        runs['callback, 0%'].append(timed_fit(args.epochs, [PruneCallback(0, agp)]))
        runs['callback, agp to 50%'].append(timed_fit(args.epochs, [PruneCallback(50, agp)]))
    base = statistics.median(runs['no callback'])
    print(f"{'digits CNN fit':<24}{'seconds':>9}{'ratio':>7}")
    for k, v in runs.items(): print(f"{k:<24}{statistics.median(v):>9.2f}{statistics.median(v)/base:>7.2f}")
    print(f"\n{'model':<10}{'batches':>8}{'events':>7}{'ms/batch quiet':>16}{'ms/event':>10}")
    for arch in ('resnet18', 'resnet50'):
        X, y = torch.randn(256, 3, 64, 64), torch.randint(0, 10, (256,))
        dls = DataLoaders(DataLoader(list(zip(X, y)), bs=16, shuffle=True), DataLoader(list(zip(X[:32], y[:32])), bs=32))
        learn = Learner(dls, tvm.get_model(arch, weights=None, num_classes=10), loss_func=CrossEntropyLossFlat())
        cb = Timer(50, agp)
        with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=cb)
        print(f"{arch:<10}{len(cb.quiet)+len(cb.events_t):>8}{len(cb.events_t):>7}{1000*statistics.mean(cb.quiet):>16.3f}{1000*statistics.mean(cb.events_t):>10.0f}")
