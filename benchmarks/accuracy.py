"""Accuracy of the pruned digits CNN against the unpruned one, for criteria x context x ratio, in one run.

The CNN (64-128-128 filters) trains with `fit_one_cycle` on scikit-learn's digits (1437 train, 360 valid), with
`PruneCallback(ratio, agp, context, criteria)`; the same seed and data for every cell.

    python benchmarks/accuracy.py [--epochs 5] [--ratios 30,50,70,80]
"""
import argparse, warnings
import torch
from fasterprune.all import *
from fasterprune.criteria import random, taylor
from fastai.metrics import accuracy
from callback import digits_learner  # benchmarks/callback.py

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=5)
    ap.add_argument('--ratios', default='30,50,70,80')
    args = ap.parse_args()
    warnings.simplefilter('ignore')
    def run(cbs):
        learn = digits_learner()
        learn.metrics = [accuracy]
        with learn.no_bar(), learn.no_logging():
            learn.fit_one_cycle(args.epochs, 3e-3, cbs=cbs)
            return learn.validate()[1], count_params(learn.model)
    acc0, p0 = run([])
    print(f"unpruned: accuracy {acc0:.3f}, {p0:,} params\n")
    ratios = [int(r) for r in args.ratios.split(',')]
    print(f"{'criteria':<12}{'context':<8}" + ''.join(f"{str(r)+'%':>8}" for r in ratios))
    for crit in (large_final, taylor, random):
        for context in ('local', 'global'):
            accs = [run([PruneCallback(r, agp, context, crit)])[0] for r in ratios]
            print(f"{crit.name:<12}{context:<8}" + ''.join(f"{a:>8.3f}" for a in accs), flush=True)
