"""How far a prune event is from the least Python it could run: the engine's later events against a minimal path.

A prune event of `PruneCallback` copies every tensor it replaces (parameters, optimizer state) and scores the
channels of the groups that change, work no implementation can skip; the rest is Python around it. This script runs
fastai fits of resnet18 and resnet50 (synthetic 64x64 images, 16 per batch, 60 batches, agp to 50% of filters,
local, `large_final`) two ways, alternating them in rounds (these machines are noisy):

- *engine*: `PruneCallback` as it is, `Pruner.prune_to` at every event;
- *minimal*: the same callback, whose events after the first run `MinimalEvents` instead, a path for models whose
  every group is plain (ungrouped convs, BatchNorms and linear layers, a channel a position, none fixed). It does
  only the work an event cannot skip, in as little Python as we could write it: the integer target of each group,
  the scores of the groups whose target changed (absolute weights summed per channel, what `large_final` computes,
  each weight read once), the lowest channels, one gather per tensor with the engine's `Cut` (weights, BatchNorm
  statistics, the fastai optimizer's state), the new parameters put in the layers and the optimizer, and the
  couplings renumbered with NumPy. No checks, no rollback, no bookkeeping, nothing for twins, hooks, heads,
  reports or any other model. The first event is the engine's in both (it traces, checks and plans as always).

Both fits end at the same widths (checked). Columns, medians over the later events: ms per event (the callback's
`after_batch` of the event's batch, as `callback.Timer` times it for part 2), the copies of
the tensors it replaced made again right after it (`callback.copy_floor`: the floor), the time it spent scoring,
and the event over the copies and the scoring. What separates the two paths is the engine's generality; what
separates the minimal path from the floor is the Python that any event must run per layer, parameter and group.

    python benchmarks/lean_event.py [--rounds 3] [--models resnet18,resnet50]
"""
import argparse, statistics, time, warnings
import numpy as np, torch, torch.nn as nn
import torchvision.models as tvm
from fastai.learner import Learner
from fastai.losses import CrossEntropyLossFlat
import fasterprune.groups
from fasterprune.all import *
from fasterprune.graph import Cut, _keep
from fasterprune.planning import kept
from callback import image_dls, Timer, SCORES, _timed

class MinimalGroup:
    "A plain group as `MinimalEvents` keeps it: `[module, dim, layer indices, root indices]` per layer that holds weights"
    def __init__(self, g):
        if g.granularity != 1 or g.fixed or g.mixing or g.attention is not None or g.follows is not None or g.step != 1:
            raise ValueError(f"{g.name}: not a plain group")
        self.root, self.n, self.cps = g.root, g.n, []
        for c in g.couplings:
            m = c.module
            if not isinstance(m, nn.Module) or c.inert: continue  # additions, concatenations: no tensors
            if isinstance(m, nn.Conv2d) and m.groups == 1 or isinstance(m, nn.Linear): dim = 0 if c.is_out else 1
            elif isinstance(m, nn.BatchNorm2d): dim = 0
            else: raise ValueError(f"{g.name}: {type(m).__name__} is not a plain layer")
            self.cps.append([m, dim, c.idxs.numpy().copy(), c.root_idxs.numpy().copy()])

class MinimalEvents:
    "Prune events with nothing but the work they cannot skip, for a model whose every group is plain (`MinimalGroup`); `scoring`: seconds the last event scored"
    def __init__(self, pruner, opt):
        self.ratio, self.n_init = pruner.target.pruning_ratio, pruner.n_init
        self.groups = [MinimalGroup(g) for g in pruner.groups]
        self.on = {}  # `{(module, dim): couplings}`: what a cut of a layer's dimension renumbers
        for g in self.groups:
            for cp in g.cps: self.on.setdefault((cp[0], cp[1]), []).append(cp)
        self.lists, self.state = opt.param_lists, opt.state
        self.at = {id(p): (i, j) for i, ps in enumerate(self.lists) for j, p in enumerate(ps)}

    def __call__(self, fraction:float)->dict:
        "Prune to `fraction` of the target; `{old parameter: (new, cut)}`"
        r = self.ratio * fraction
        todo = [(g, g.n - k) for g in self.groups if (k := max(1, kept(self.n_init[g.root], r))) < g.n]
        dims = {}  # each weight read once, summed per channel along each dimension a group reads it by
        for g, _ in todo:
            for m, dim, _, _ in g.cps: dims.setdefault(m, set()).add(dim)
        t, per_channel = time.perf_counter(), {}
        with torch.no_grad():
            for m, ds in dims.items():
                w = m.weight.detach().abs()
                for d in ds: per_channel[m, d] = large_final.per_channel(w, d)
            self.scoring = time.perf_counter() - t
            gone = {}
            for g, k in todo:
                s = torch.zeros(g.n)
                for m, dim, idxs, roots in g.cps: s.index_add_(0, torch.from_numpy(roots), per_channel[m, dim][torch.from_numpy(idxs)])
                mask = np.zeros(g.n, bool)
                mask[torch.argsort(s)[:k].numpy()] = True
                gone[g] = mask
        cuts = {}  # `{module: {dim: removed layer indices}}`
        for g, mask in gone.items():
            for m, dim, idxs, roots in g.cps: cuts.setdefault(m, {}).setdefault(dim, []).append(idxs[mask[roots]])
        cuts = {m: {d: np.unique(np.concatenate(v)) for d, v in dims.items()} for m, dims in cuts.items()}
        changes = {}
        def replace(m, k, cut):
            old = m._parameters[k]
            new = m._parameters[k] = nn.Parameter(cut(old.detach()), requires_grad=old.requires_grad)
            if old.grad is not None: new.grad = cut(old.grad)
            changes[old] = (new, cut)
        for m, dims in cuts.items():
            w = m.weight
            ops = [(d, _keep(w.shape[d], rem)) for d, rem in sorted(dims.items())]
            replace(m, 'weight', Cut(ops, w.shape, w.device))
            if 0 in dims and m._parameters.get('bias') is not None: replace(m, 'bias', Cut(ops[:1], (w.shape[0],), w.device))
            if isinstance(m, nn.BatchNorm2d):
                stats = Cut(ops[:1], (w.shape[0],), w.device)
                m._buffers['running_mean'], m._buffers['running_var'], m.num_features = stats(m.running_mean), stats(m.running_var), ops[0][1].shape[0]
            elif isinstance(m, nn.Conv2d): m.out_channels, m.in_channels = m.weight.shape[:2]
            else: m.out_features, m.in_features = m.weight.shape
        for old, (new, cut) in changes.items():  # the optimizer's state, cut as the parameter was, and its lists
            if (s := self.state.pop(old, None)) is not None:
                self.state[new] = {k: cut(v) if isinstance(v, torch.Tensor) and v.shape == old.shape else v for k, v in s.items()}
            i, j = self.at.pop(id(old))
            self.lists[i][j] = new
            self.at[id(new)] = (i, j)
        for m, dims in cuts.items():  # every coupling on a cut dimension, numbered again
            for dim, rem in dims.items():
                cps = self.on[m, dim]
                keep = np.ones(max([int(cp[2].max()) + 1 for cp in cps] + [int(rem.max()) + 1]), bool)
                keep[rem] = False
                rank = np.cumsum(keep) - 1
                for cp in cps:
                    sel = keep[cp[2]]
                    cp[2], cp[3] = rank[cp[2][sel]], cp[3][sel]
        for g, mask in gone.items():  # and the groups' roots
            rank = np.cumsum(~mask) - 1
            for cp in g.cps: cp[3] = rank[cp[3]]
            g.n -= int(mask.sum())
        return changes

class MinimalTimer(Timer):
    "`callback.Timer` whose events after the first run `MinimalEvents`, their scoring counted in `SCORES` as the engine's is"
    def before_fit(self): super().before_fit(); self.minimal = None
    def prune(self, fraction):
        if not self.events_t: return super().prune(fraction)  # the first: the engine's, which traces, checks and plans
        if self.minimal is None: self.minimal = MinimalEvents(self.pruner, self.opt)
        self._copied_grads = not getattr(self, '_zeroed', False)
        held = self._hold_zero_grads()  # as `PruneCallback.prune`: no zeros copied right after a step
        self._changes = self.minimal(fraction)
        SCORES[0] += self.minimal.scoring
        gone = {id(p) for p in self._changes}
        for p, g in held:
            if id(p) not in gone: p.grad = g
        self.fraction = fraction

MODELS = {'resnet18': tvm.resnet18, 'resnet50': tvm.resnet50}

def fit(arch:str, minimal:bool, n:int=60):
    "`(rows, widths)` of one fit of `arch` pruned with the engine or the minimal path"
    learn = Learner(image_dls(n=16 * n, size=64, bs=16), MODELS[arch](weights=None, num_classes=10), loss_func=CrossEntropyLossFlat())
    cb = (MinimalTimer if minimal else Timer)(pruning_ratio=50, schedule=agp, criteria=large_final)
    with learn.no_bar(), learn.no_logging(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        learn.fit(1, 1e-3, cbs=cb)
    learn.model(torch.randn(2, 3, 64, 64))  # the pruned model runs
    for p in learn.model.parameters():  # and the optimizer's state follows it
        assert all(v.shape == p.shape for v in learn.opt.state.get(p, {}).values() if isinstance(v, torch.Tensor) and v.dim()), 'optimizer state'
    return list(zip(cb.events_t, cb.floor_t, cb.scores_t))[1:], [m.weight.shape for m in learn.model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--models', default='resnet18,resnet50')
    args = ap.parse_args()
    fasterprune.groups.channel_scores = _timed(fasterprune.groups.channel_scores, SCORES)  # the engine's scoring, counted as part 2 counts it
    print(f"{'model':<10}{'path':<9}{'round':>6}{'events':>7}{'ms/event':>10}{'copies alone':>14}{'scoring':>9}"
          f"{'event/alone':>13}{'event/(alone+scoring)':>23}")
    for arch in args.models.split(','):
        widths = {}  # the last round's of each path
        for r in range(args.rounds):
            for minimal in (r % 2 == 1, r % 2 == 0):  # alternating which runs first
                rows, widths[minimal] = fit(arch, minimal)
                ev, fl, sc = (1000 * statistics.median(v) for v in zip(*rows))
                print(f"{arch:<10}{'minimal' if minimal else 'engine':<9}{r + 1:>6}{len(rows):>7}{ev:>10.2f}{fl:>14.2f}{sc:>9.2f}"
                      f"{ev / fl:>13.2f}{ev / (fl + sc):>23.2f}", flush=True)
        assert widths[True] == widths[False], f"{arch}: the two paths ended at other widths"
