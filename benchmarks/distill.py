"""Cost of `DistillCallback` in a pruning fit, side by side in one run (this machine is noisy, so read the ratios).

A fastai fit of resnet18 on synthetic 32x32 images with `PruneCallback(50, agp)`, with and without
`DistillCallback()` (a frozen copy of the unpruned model as teacher), interleaved, median of `--repeats`. The
teacher adds one forward without gradients per training batch, and its parameters and buffers in memory.

    python benchmarks/distill.py [--batches 48] [--repeats 3]
"""
import argparse, statistics, time, warnings
import torch
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.learner import Learner
from fastai.losses import CrossEntropyLossFlat
import torchvision.models as tvm
from fasterprune.all import *

def learner(n_batches, bs=32, size=32):
    torch.manual_seed(0)
    X, y = torch.randn(n_batches * bs, 3, size, size), torch.randint(0, 10, (n_batches * bs,))
    dls = DataLoaders(DataLoader(list(zip(X, y)), bs=bs, shuffle=True), DataLoader(list(zip(X[:64], y[:64])), bs=64))
    return Learner(dls, tvm.resnet18(weights=None, num_classes=10), loss_func=CrossEntropyLossFlat())

def timed(n_batches, distill):
    learn = learner(n_batches)
    cbs = [PruneCallback(50, agp)] + ([DistillCallback()] if distill else [])
    t = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=cbs)
    return time.perf_counter() - t

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--batches', type=int, default=48)
    ap.add_argument('--repeats', type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter('ignore')
    runs = {False: [], True: []}
    for i in range(args.repeats):
        for d in ((False, True) if i % 2 == 0 else (True, False)): runs[d].append(timed(args.batches, d))
    base = statistics.median(runs[False])
    m = tvm.resnet18(weights=None, num_classes=10)
    teacher_mb = sum(t.numel() * t.element_size() for t in list(m.parameters()) + list(m.buffers())) / 2**20
    print(f"\nresnet18 32x32, {args.batches} batches, agp to 50%{'seconds':>12}{'ratio':>7}")
    print(f"{'PruneCallback':<45}{base:>9.2f}{1.:>7.2f}")
    print(f"{'PruneCallback + DistillCallback':<45}{statistics.median(runs[True]):>9.2f}{statistics.median(runs[True]) / base:>7.2f}")
    print(f"teacher in memory: {teacher_mb:.1f} MB (the unpruned model's parameters and buffers)")
