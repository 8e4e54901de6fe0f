"""Cost of `PruneCallback` in a fastai fit, side by side in one run (this machine is noisy, so read the ratios).

1. Fit time, `fit_one_cycle`, same data, model and seed: no callback, the callback at 0%, the callback with agp to
   50%. On scikit-learn's digits with a small CNN (tiny: per-batch Python overhead dominates) and on resnet18 with
   synthetic 32x32 images (where the compute a pruned model saves shows).
2. On resnet18, resnet50 and a fastai U-Net on resnet18 (synthetic 64x64 images): milliseconds spent in the
   callback per batch without a prune event, and per prune event.
3. Peak memory (max RSS, each run in its own process) of a 4-epoch resnet18 fit: without the callback, with one
   prune event (`one_shot`), with the prune events of one epoch (`lin` over the first 25%) and of four epochs
   (`lin` over all of it): memory must not grow with the number of events.

    python benchmarks/callback.py [--epochs 5] [--repeats 3] [--skip time,events,memory]
"""
import argparse, multiprocessing, resource, statistics, time, warnings
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

def image_dls(n=256, size=64, bs=16, masks=False):
    "Synthetic images with class labels, or segmentation masks"
    torch.manual_seed(0)
    X = torch.randn(n, 3, size, size)
    y = torch.randint(0, 3, (n, size, size)) if masks else torch.randint(0, 10, (n,))
    return DataLoaders(DataLoader(list(zip(X, y)), bs=bs, shuffle=True), DataLoader(list(zip(X[:32], y[:32])), bs=32))

def resnet18_learner(n=256, size=64, bs=16):
    dls = image_dls(n, size, bs)
    return Learner(dls, tvm.resnet18(weights=None, num_classes=10), loss_func=CrossEntropyLossFlat())

def timed_fit(make_learner, epochs, cbs):
    learn = make_learner()
    t = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(epochs, 3e-3, cbs=cbs)
    return time.perf_counter() - t

def time_table(args):
    setups = {'digits CNN': (digits_learner, args.epochs),
              'resnet18 32x32': (lambda: resnet18_learner(n=512, size=32, bs=32), 3)}
    for setup, (make, epochs) in setups.items():
        runs = {'no callback': [], 'callback, 0%': [], 'callback, agp to 50%': []}
        for _ in range(args.repeats):  # interleaved
            runs['no callback'].append(timed_fit(make, epochs, []))
            runs['callback, 0%'].append(timed_fit(make, epochs, [PruneCallback(0, agp)]))
            runs['callback, agp to 50%'].append(timed_fit(make, epochs, [PruneCallback(50, agp)]))
        base = statistics.median(runs['no callback'])
        print(f"\n{setup + f' fit, {epochs} epochs':<28}{'seconds':>9}{'ratio':>7}")
        for k, v in runs.items(): print(f"{k:<28}{statistics.median(v):>9.2f}{statistics.median(v)/base:>7.2f}")

class Timer(PruneCallback):
    "PruneCallback that times its own after_batch"
    def before_fit(self): super().before_fit(); self.quiet, self.events_t = [], []
    def after_batch(self):
        n, t = self._next, time.perf_counter()
        super().after_batch()
        (self.events_t if self._next != n else self.quiet).append(time.perf_counter() - t)

def events_table():
    from fastai.vision.learner import unet_learner
    print(f"\n{'model':<14}{'batches':>8}{'events':>7}{'ms/batch quiet':>16}{'ms/event':>10}")
    learners = {'resnet18': resnet18_learner,
                'resnet50': lambda: Learner(image_dls(), tvm.resnet50(weights=None, num_classes=10), loss_func=CrossEntropyLossFlat()),
                'unet resnet18': lambda: unet_learner(image_dls(masks=True), tvm.resnet18, pretrained=False, n_out=3,
                                                      loss_func=CrossEntropyLossFlat(axis=1))}
    for arch, make in learners.items():
        learn, cb = make(), Timer(50, agp)
        with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=cb)
        left = len(cb.pruner.skipped) + len(cb.pruner.excluded)
        print(f"{arch:<14}{len(cb.quiet)+len(cb.events_t):>8}{len(cb.events_t):>7}{1000*statistics.mean(cb.quiet):>16.3f}"
              f"{1000*statistics.mean(cb.events_t):>10.0f}" + (f"  ({left} groups left alone)" if left else ""))

def peak_memory(schedule, queue):
    "In a fresh process: fit resnet18 for 4 epochs with `schedule` (None: no callback); report max RSS and events"
    warnings.simplefilter('ignore')
    learn = resnet18_learner()
    cbs = [] if schedule is None else [PruneCallback(50, schedule)]
    with learn.no_bar(), learn.no_logging(): learn.fit(4, 1e-3, cbs=cbs)
    queue.put((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, len(cbs[0].history) - 1 if cbs else 0))

def memory_table():
    ctx = multiprocessing.get_context('spawn')
    print(f"\n{'resnet18 fit, 4 epochs':<30}{'events':>7}{'peak RSS MB':>13}{'ratio':>7}")
    base = None
    for label, schedule in (('no callback', None), ('one_shot to 50%', one_shot),
                            ('lin to 50% in 1 epoch', Schedule(sched_lin, end_pct=0.25)), ('lin to 50% in 4 epochs', lin)):
        queue = ctx.Queue()
        proc = ctx.Process(target=peak_memory, args=(schedule, queue))
        proc.start(); rss, events = queue.get(); proc.join()
        base = base or rss
        print(f"{label:<30}{events:>7}{rss:>13.0f}{rss/base:>7.2f}")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=5, help='epochs of the digits fit')
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--skip', default='', help='comma-separated parts to skip: time, events, memory')
    args = ap.parse_args()
    skip = args.skip.split(',')
    warnings.simplefilter('ignore')
    if 'time' not in skip: time_table(args)
    if 'events' not in skip: events_table()
    if 'memory' not in skip: memory_table()
