"""'Rethinking the value of network pruning' check on digits32 (benchmarks/accuracy.py's task and helpers).

For each seed and speed-up S, four rows, each trained with the benchmark's own fit (A.fit: fit_one_cycle, the task's
epochs and lr, the seed's data order):
  unpruned          A.run_unpruned (the benchmark's 'unpruned' row; run once per seed, reported under every S)
  default           A.run_fasterprune(criteria='large_final', context='local', schedule=A.GRADUAL) (the benchmark's
                    'fasterprune large_final local agp' row, `PruneCallback`'s default when this ran; a local ranking
                    keeps the same share of every group whatever the criterion, so `taylor_abs`, today's, ends at the same widths)
  same_widths       the default row's final pruned model, every parameter re-initialised as digits32_model initialises
                    its own (torchvision resnet18 init, conv1 a fresh nn.Conv2d), trained from scratch by A.run_unpruned
  uniform_width     resnet18 whose groups all keep the same share of channels (fasterprune's Pruner, context='local',
                    criteria=random, one shot, pruning_ratio bisected to S-fold fewer MACs), re-initialised and trained
                    as same_widths

The re-initialised models go through A.run_unpruned itself: T.ALL_TASKS['digits32']['model'] is swapped, for that call
only, for a factory that re-initialises a copy of the given architecture, so the init happens at the same point of the
seeded RNG stream as the unpruned model's (right after set_seed(seed) and the DataLoaders), and data order, optimizer and
schedule are the unpruned row's.

Runs already in the results file are skipped (a run resumes); the table at the end is printed from that file: mean and
spread per row, and each row's paired difference from `default`, seed by seed, with a 95% t interval.

    OMP_NUM_THREADS=1 python benchmarks/retrain.py [--seeds 0,1,2,3,4,5] [--speedups 2,4] [--rows unpruned,default,same_widths,uniform_width]
"""
import argparse, contextlib, copy, json, os, sys, time, warnings
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch, torch.nn as nn
torch.set_num_threads(1)
import accuracy as A, tasks as T
from fasterprune.all import Pruner
from fasterprune.criteria import random as fp_random

TASK = 'digits32'
EPOCHS, LR = T.TASKS[TASK]['epochs'], T.TASKS[TASK]['lr']
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'results', 'retrain_digits32.jsonl')

def reinit_(model:nn.Module)->nn.Module:
    """Re-initialise `model` (a possibly pruned torchvision resnet18 from `T.digits32_model`) as that function does:
    torchvision's ResNet init (kaiming_normal_ fan_out/relu on every Conv2d, BN weight 1 bias 0, Linear left at its
    default reset), then conv1 replaced by a fresh nn.Conv2d (PyTorch's default init); BN running stats reset"""
    for m in model.modules():
        if isinstance(m, nn.Conv2d): nn.init.kaiming_normal_(m.weight, mode='fan_out', nonlinearity='relu')
        elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.constant_(m.weight, 1); nn.init.constant_(m.bias, 0)
            if isinstance(m, nn.BatchNorm2d): m.reset_running_stats()
        elif isinstance(m, nn.Linear): m.reset_parameters()
    model.conv1.reset_parameters()  # digits32_model's own conv1: nn.Conv2d(1, 64, 7, 2, 3, bias=False), default init
    return model

def clean_copy(model:nn.Module)->nn.Module:
    "A deep copy of `model` with nothing a pruner may have attached beyond the modules, parameters and buffers"
    m = copy.deepcopy(model).cpu().train()
    for mod in m.modules():
        for hooks in ('_forward_hooks', '_forward_pre_hooks', '_backward_hooks'):
            assert not getattr(mod, hooks), f'{type(mod).__name__} has {hooks}'
    for p in m.parameters(): p.grad = None; p.requires_grad_(True)
    return m

@contextlib.contextmanager
def model_factory(arch:nn.Module):
    "Within: `T.digits32_model()` (the task's model factory) returns a re-initialised copy of `arch`"
    entry = T.ALL_TASKS[TASK]
    assert entry is T.TASKS[TASK]
    old = entry['model']
    entry['model'] = lambda: reinit_(clean_copy(arch))
    try: yield
    finally: entry['model'] = old

def widths(model)->list: return [m.out_channels for m in model.modules() if isinstance(m, nn.Conv2d)]

MACS0 = None
def speedup(model)->float:
    global MACS0
    if MACS0 is None: MACS0 = A.macs(T.digits32_model(), TASK)
    return MACS0 / A.macs(model, TASK)

def uniform_arch(S:float, iters:int=30)->tuple:
    "`(model, pruning_ratio)`: resnet18 with every group pruned by the same share (Pruner local, random), S-fold fewer MACs"
    xb = T.TASKS[TASK]['data']()[0][:4]
    def pruned(p):
        torch.manual_seed(0)
        m = T.digits32_model()
        Pruner(m, pruning_ratio=p, context='local', criteria=fp_random, example_inputs=xb, verbose=False).prune_model()
        return m
    lo, hi = 0., 95.
    for _ in range(iters):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if speedup(pruned(mid)) < S else (lo, mid)
    # the closer of the two bracketing architectures
    cands = [(abs(speedup(pruned(p)) / S - 1), p) for p in (lo, hi)]
    p = min(cands)[1]
    return pruned(p), p

def done()->set:
    if not os.path.exists(OUT): return set()
    return {(r['seed'], r['S'], r['row']) for r in map(json.loads, open(OUT)) if 'acc' in r}

def save(**run):
    with open(OUT, 'a') as f: f.write(json.dumps(run) + '\n')
    print(f"  seed {run['seed']} S {run['S']} {run['row']:<14} acc {run['acc']:.4f} speed-up {run['speedup']:.3f} {run['seconds']:.0f}s", flush=True)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--seeds', default='0,1,2,3,4,5')
    ap.add_argument('--speedups', default='2,4')
    ap.add_argument('--rows', default='unpruned,default,same_widths,uniform_width')
    args = ap.parse_args()
    seeds = [int(s) for s in args.seeds.split(',')]
    speedups = [int(s) for s in args.speedups.split(',')]
    rows = args.rows.split(',')
    warnings.simplefilter('ignore')
    print(f'torch threads {torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS")}, epochs {EPOCHS}, lr {LR}', flush=True)
    uniform = {}
    for seed in seeds:
        for S in speedups:
            have = done()
            if 'unpruned' in rows and (seed, S, 'unpruned') not in have:
                prev = [r for r in map(json.loads, open(OUT)) if r['seed'] == seed and r['row'] == 'unpruned'] if os.path.exists(OUT) else []
                if prev: save(**{**prev[0], 'S': S, 'copied_from_S': prev[0]['S']})  # the unpruned fit does not depend on S
                else:
                    t = time.perf_counter(); learn = A.run_unpruned(TASK, seed, EPOCHS)
                    save(seed=seed, S=S, row='unpruned', acc=A.evaluate(learn), speedup=speedup(learn.model), seconds=time.perf_counter() - t)
            need_default = any((seed, S, r) not in have for r in ('default', 'same_widths') if r in rows)
            if need_default:
                t = time.perf_counter()
                learn = A.run_fasterprune(TASK, seed, EPOCHS, S, criteria='large_final', context='local', schedule=A.GRADUAL)
                arch = clean_copy(learn.model)
                if (seed, S, 'default') not in have:
                    save(seed=seed, S=S, row='default', acc=A.evaluate(learn), speedup=speedup(learn.model), seconds=time.perf_counter() - t,
                         widths=widths(learn.model))
                if 'same_widths' in rows and (seed, S, 'same_widths') not in have:
                    t = time.perf_counter()
                    with model_factory(arch): learn = A.run_unpruned(TASK, seed, EPOCHS)
                    save(seed=seed, S=S, row='same_widths', acc=A.evaluate(learn), speedup=speedup(learn.model), seconds=time.perf_counter() - t,
                         widths=widths(learn.model))
            if 'uniform_width' in rows and (seed, S, 'uniform_width') not in have:
                if S not in uniform:
                    t = time.perf_counter(); uniform[S] = uniform_arch(S)
                    print(f'  uniform arch for {S}x: pruning_ratio {uniform[S][1]:.3f}%, speed-up {speedup(uniform[S][0]):.3f} ({time.perf_counter() - t:.0f}s)', flush=True)
                arch, p = uniform[S]
                t = time.perf_counter()
                with model_factory(arch): learn = A.run_unpruned(TASK, seed, EPOCHS)
                save(seed=seed, S=S, row='uniform_width', acc=A.evaluate(learn), speedup=speedup(learn.model), seconds=time.perf_counter() - t,
                     widths=widths(learn.model), pruning_ratio=p)

def summary(speedups=(2, 4)):
    "The table: each row's mean, spread and speed-up per S, and its paired difference from `default` (95% t interval)"
    import math, statistics as st
    from scipy.stats import t as student
    rs = [json.loads(l) for l in open(OUT)]
    acc = {(r['seed'], r['S'], r['row']): 100 * r['acc'] for r in rs}
    rows = ['unpruned', 'default', 'same_widths', 'uniform_width']
    for S in speedups:
        seeds = sorted({s for s, s_, r in acc if s_ == S and r == 'default'})
        print(f"\n{S}x fewer MACs, {len(seeds)} seeds: row, mean accuracy % (std), speed-up, minus default (95% t), per seed")
        for row in rows:
            a = [acc[s, S, row] for s in seeds if (s, S, row) in acc]
            if len(a) < 2: continue
            sp = st.mean(r['speedup'] for r in rs if r['S'] == S and r['row'] == row)
            d = [acc[s, S, row] - acc[s, S, 'default'] for s in seeds if (s, S, row) in acc]
            h = student.ppf(0.975, len(d) - 1) * st.stdev(d) / math.sqrt(len(d)) if row != 'default' else 0
            diff = f"{st.mean(d):+.2f} ± {h:.2f}" if row != 'default' else '--'
            print(f"  {row:<14} {st.mean(a):6.2f} ({st.stdev(a):.2f})  {sp:.2f}x  {diff:>14}  {[round(x, 1) for x in d]}")

if __name__ == '__main__':
    main()
    summary()
