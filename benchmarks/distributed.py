"""Time per prune event of `PruneCallback` under DDP (2 CPU processes, gloo) against one process, in one run.

Each configuration fits for `--epochs` with `PruneCallback(50, agp, criteria=large_final)`; `PruneCallback.prune` is timed around each
event (under DDP that includes broadcasting rank 0's plan and re-wrapping the model in DistributedDataParallel).
Single-process and DDP runs alternate `--repeats` times; the table gives medians of the per-run mean.

    python benchmarks/distributed.py [--repeats 3] [--epochs 2]
"""
import argparse, json, os, statistics, subprocess, sys, tempfile, time, warnings
from pathlib import Path

def worker(model_name, epochs, distributed):
    "One fit; prints the mean milliseconds per prune event as JSON (rank 0 only under DDP)"
    warnings.filterwarnings('ignore')
    import torch
    from fastai.data.core import DataLoaders
    from fastai.data.load import DataLoader
    from fastai.learner import Learner
    from fastai.losses import CrossEntropyLossFlat
    from fasterprune.all import digits_learner, PruneCallback, agp, large_final
    if model_name == 'digits-cnn': learn = digits_learner()
    else:
        from torchvision.models import resnet18
        g = torch.Generator().manual_seed(0)
        xs, ys = torch.randn(512, 3, 32, 32, generator=g), torch.randint(0, 10, (512,), generator=g)
        dls = DataLoaders(DataLoader(list(zip(xs, ys)), bs=32, shuffle=True), DataLoader(list(zip(xs[:64], ys[:64])), bs=64))
        torch.manual_seed(0)
        learn = Learner(dls, resnet18(num_classes=10), loss_func=CrossEntropyLossFlat())
    times, prune = [], PruneCallback.prune
    def timed(self, fraction):
        start = time.perf_counter(); prune(self, fraction); times.append(time.perf_counter() - start)
    PruneCallback.prune = timed
    cb = PruneCallback(50, agp, criteria=large_final)
    if distributed:
        from fastai.distributed import distrib_ctx  # noqa: F401 (adds Learner.distrib_ctx)
        import fasterprune.distributed  # noqa: F401 (CPU-safe DistributedDL)
        with learn.distrib_ctx(sync_bn=False, cpu=True):
            with learn.no_bar(), learn.no_logging(): learn.fit(epochs, 1e-3, cbs=cb)
    else:
        with learn.no_bar(), learn.no_logging(): learn.fit(epochs, 1e-3, cbs=cb)
    if int(os.environ.get('RANK', 0)) == 0: print(json.dumps({'ms': 1000 * statistics.mean(times), 'events': len(times)}))

def run(model_name, epochs, distributed):
    me = str(Path(__file__).resolve())
    args = ['--worker', model_name, '--epochs', str(epochs)] + (['--distributed'] if distributed else [])
    cmd = ([sys.executable, '-m', 'torch.distributed.run', '--nproc_per_node=2', me] if distributed else [sys.executable, me]) + args
    env = {**os.environ, 'OMP_NUM_THREADS': '1'}  # what torchrun sets for each process: the same for one process
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=900, env=env, cwd=tempfile.mkdtemp())
    if r.returncode: sys.exit(r.stderr[-3000:])
    return json.loads(next(l for l in r.stdout.splitlines() if l.startswith('{')))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--epochs', type=int, default=2)
    ap.add_argument('--models', default='digits-cnn,resnet18-32px')
    ap.add_argument('--worker', default=None, help=argparse.SUPPRESS)
    ap.add_argument('--distributed', action='store_true', help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker: worker(args.worker, args.epochs, args.distributed); sys.exit(0)
    print(f"ms per prune event, median of {args.repeats} runs (1 thread per process; DDP: 2 processes, gloo)\n")
    print(f"{'model':<16}{'events':>8}{'1 process':>12}{'DDP x2':>10}{'ratio':>8}")
    for name in args.models.split(','):
        single, ddp = [], []
        for _ in range(args.repeats):
            single.append(run(name, args.epochs, False)); ddp.append(run(name, args.epochs, True))
        s, d = statistics.median(r['ms'] for r in single), statistics.median(r['ms'] for r in ddp)
        print(f"{name:<16}{single[0]['events']:>4}/{ddp[0]['events']:<3}{s:>12.1f}{d:>10.1f}{d / s:>8.2f}", flush=True)
