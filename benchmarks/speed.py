"""Time of building a `Pruner` plus one `prune_model()` at 50%, against torch-pruning's own `BasePruner` with
`MagnitudeImportance` doing the same on the same model, side by side in one run (this machine is noisy).

    python benchmarks/speed.py [--models resnet50,densenet121] [--repeats 3]
"""
import argparse, statistics, time, warnings
import torch, torch_pruning as tp
import torchvision.models as tvm
from fasterprune.all import *

def fasterprune_once(name, context):
    model = tvm.get_model(name, weights=None)
    x = torch.randn(1, 3, 224, 224)
    t = time.perf_counter()
    Pruner(model, 50, context, large_final, example_inputs=x, verbose=False).prune_model()
    return time.perf_counter() - t, count_params(model)

def torch_pruning_once(name, context):
    model = tvm.get_model(name, weights=None)
    x = torch.randn(1, 3, 224, 224)
    t = time.perf_counter()
    pruner = tp.pruner.BasePruner(model, x, tp.importance.MagnitudeImportance(p=1), global_pruning=context == 'global',
                                  pruning_ratio=0.5, ignored_layers=[model.classifier if hasattr(model, 'classifier') else model.fc])
    pruner.step()
    return time.perf_counter() - t, count_params(model)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--models', default='resnet50,densenet121')
    ap.add_argument('--contexts', default='local,global')
    ap.add_argument('--repeats', type=int, default=3)
    args = ap.parse_args()
    warnings.simplefilter('ignore')
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"{'model':<14}{'context':<8}{'fasterprune s':>15}{'torch-pruning s':>17}{'ratio':>7}{'params fp':>13}{'params tp':>13}")
    for name in args.models.split(','):
        for context in args.contexts.split(','):
            ours, theirs = [], []
            for _ in range(args.repeats):  # interleaved, so drifts of the machine hit both alike
                t, p_ours = fasterprune_once(name, context); ours.append(t)
                t, p_theirs = torch_pruning_once(name, context); theirs.append(t)
            mo, mt = statistics.median(ours), statistics.median(theirs)
            print(f"{name:<14}{context:<8}{mo:>15.2f}{mt:>17.2f}{mo/mt:>7.2f}{p_ours:>13,}{p_theirs:>13,}")
