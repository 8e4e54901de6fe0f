"""Cost of `DistillCallback` in a pruning fit, side by side in one run (this machine is noisy, so read the ratios).

A fastai fit of resnet18 on synthetic 32x32 images with `PruneCallback(50, agp, criteria=large_final)`, alone, with `DistillCallback()`
(a frozen copy of the unpruned model as teacher) and with `DistillCallback(features=FEATURES['digits32'])` (its
attention maps too), interleaved, median of `--repeats`. The teacher adds one forward without gradients per
training batch, and its parameters and buffers in memory; the features, the attention of three feature maps of
each model per batch (the student's maps are kept for backward anyway).

With `--accuracy`, what distillation buys: on the tasks of `benchmarks/accuracy.py`, each seed's trained unpruned
model is pruned while it is fine-tuned (`PruneCallback(speed_up=S, context='local', criteria=large_final)`, the default
criteria when the shipped results ran, along the same AGP window as
the accuracy benchmark, for as many epochs as it was trained), with and without `DistillCallback()`, whose teacher
is the trained model as it was when the fine-tuning started, and with `DistillCallback(features=...)`, which also
matches the teacher's attention at the ends of the model's stages (`FEATURES`). Results go to `--results` (one JSON
per task, resumed), in the accuracy benchmark's format, and the table is printed.

    python benchmarks/distill.py [--batches 48] [--repeats 3]
    python benchmarks/distill.py --accuracy [--task mnist1d|digits32|all] [--seeds 3] [--speedups 2,4,8] [--results DIR]
"""
import argparse, os, statistics, sys, time, warnings
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

FEATURES = {'digits32': ['layer1', 'layer2', 'layer3'],  # resnet18's stages at 32x32 (layer4's map is one position: its attention is always 1)
            'mnist1d': ['2', '4']}  # the 1-D CNN's two residual blocks

def timed(n_batches, distill):
    learn = learner(n_batches)
    cbs = [PruneCallback(50, agp, criteria=large_final)] + ([DistillCallback(features=FEATURES['digits32'] if distill == 'features' else None)] if distill else [])
    t = time.perf_counter()
    with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=cbs)
    return time.perf_counter() - t

def finetune_row(task, seed, S, distill, res):
    "A trained unpruned model of `seed`, pruned to S-fold fewer MACs while fine-tuned, with or without distillation"
    import accuracy as A
    epochs = A.TASKS[task]['epochs']
    name = f"trained, pruned while fine-tuned, large_final local{' + distillation' if distill else ''}{' + attention transfer' if distill == 'features' else ''}"
    if res.find(name, seed, S, epochs) is not None: return
    learn = A.task_learner(task, seed)
    learn.model.load_state_dict(A.unpruned_model(task, epochs, res, seed).state_dict())
    cbs = [PruneCallback(speed_up=S, schedule=A.GRADUAL, context='local', criteria=large_final)] + ([DistillCallback(features=FEATURES[task] if distill == 'features' else None)] if distill else [])
    t = time.perf_counter()
    A.fit(learn, epochs, A.TASKS[task]['lr'], cbs)
    A.record(res, task, name, seed, S, epochs, learn, None, time.perf_counter() - t)

def accuracy_table(args):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import accuracy as A
    speedups = [int(s) for s in args.speedups.split(',')]
    for task in (A.TASKS if args.task == 'all' else [args.task]):
        res = A.Results(os.path.join(args.results, f'distill_{task}.json'))
        for S in speedups:
            for seed in range(args.seeds):
                for distill in (False, True, 'features'): finetune_row(task, seed, S, distill, res)
        A.print_table(task, res.data['runs'], speedups, A.TASKS[task]['epochs'])

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--batches', type=int, default=48)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--accuracy', action='store_true', help='what distillation buys in accuracy, instead of its cost')
    ap.add_argument('--task', default='all')
    ap.add_argument('--seeds', type=int, default=3)
    ap.add_argument('--speedups', default='2,4,8')
    ap.add_argument('--results', default='/tmp/acc', help='folder of the JSON results (resumed)')
    args = ap.parse_args()
    warnings.simplefilter('ignore')
    if args.accuracy:
        torch.set_num_threads(1)
        accuracy_table(args); sys.exit()
    kinds = (False, True, 'features')
    runs = {d: [] for d in kinds}
    for i in range(args.repeats):
        for d in kinds[i % 3:] + kinds[:i % 3]: runs[d].append(timed(args.batches, d))  # each repeat in a rotated order
    base = statistics.median(runs[False])
    m = tvm.resnet18(weights=None, num_classes=10)
    teacher_mb = sum(t.numel() * t.element_size() for t in list(m.parameters()) + list(m.buffers())) / 2**20
    print(f"\nresnet18 32x32, {args.batches} batches, agp to 50%{'seconds':>12}{'ratio':>7}")
    print(f"{'PruneCallback':<45}{base:>9.2f}{1.:>7.2f}")
    print(f"{'PruneCallback + DistillCallback':<45}{statistics.median(runs[True]):>9.2f}{statistics.median(runs[True]) / base:>7.2f}")
    f = statistics.median(runs['features'])
    print(f"{'PruneCallback + DistillCallback(features=3)':<45}{f:>9.2f}{f / base:>7.2f}")
    print(f"teacher in memory: {teacher_mb:.1f} MB (the unpruned model's parameters and buffers)")
