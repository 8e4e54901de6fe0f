"""Accuracy kept at 2x, 4x and 8x fewer MACs: fasterprune side by side with fasterai 0.4.1 and Torch-Pruning 1.6.

Every row trains the same model on the same data (`benchmarks/tasks.py`: MNIST-1D on a residual 1-D CNN, digits
upscaled to 32x32 and jittered on torchvision's resnet18) for the same epochs with Adam and a one-cycle LR, once per
seed; the seed fixes the data order, the init and the pruning randomness, the same seeds for every row.

- `unpruned`: the model trained without pruning (one row).
- `fasterprune <criteria> <context> agp`: `PruneCallback(speed_up=S, ...)` during the fit. Every gradual row, of
  every library, prunes along AGP (cubic) from 10% to 60% of training (`warmup_prune_finetune(sched_agp, 0.1, 0.4)`)
  and recovers for the last 40%: `PruneCallback`'s default schedule (`default_schedule`), which it became after the
  window study below.
- `fasterprune large_final <context> one-shot+ft`: half the epochs, one `Pruner(speed_up=S).prune_model()`,
  `recalibrate_bn`, then a fresh one-cycle fit of the other half.
- `fasterprune large_final global agp norm=<v>`: the global rows again with each other `normalize` value (the plain
  global rows use the default, 'mean_init'). In `benchmarks/results/`, the global rows of the other criteria ran
  while 'mean' was the default, and are labelled `norm=mean`.
- `fasterai <criteria> <context> agp`: fasterai's `PruneCallback`, which takes a fraction of filters, not MACs, and
  prunes a little before every optimizer step along its schedule function (AGP squeezed into the same 10%-60%).
  fasterai 0.4.1 has no 'filter' granularity for `Conv1d` (it scores it as a `Linear`): the benchmark registers one
  with `Granularities.add_granularity` (filter = a conv's weights of one output channel); and its callback traces
  the model on its `Pruner`'s default 3x224x224 input unless `example_inputs` is passed, so the benchmark passes one.
- `tp <importance> <context> agp`: Torch-Pruning's `MetaPruner` with its own importances in a plain PyTorch loop:
  `k=10` calls of `step()` spread over the same 10%-60% along AGP, the optimizer rebuilt after each (Torch-Pruning
  does not carry its state), the same AdamW hypers (fastai's Adam: decoupled wd 0.01, no wd on BatchNorm and biases,
  betas 0.9/0.99, eps 1e-5), `OneCycleLR` with fastai's defaults, the same batches.
- `unpruned, optimizer rebuilt 10 times` and `fasterprune large_final local agp, optimizer rebuilt 10 times`
  (`--only resets`): the control of the Torch-Pruning rows' optimizer resets. The unpruned fit, and fasterprune's
  `large_final` local (the default when they ran), with a new optimizer (empty state) after each of the steps where `tp` rows prune (`RebuildOptimizer`):
  on digits32 trained 24 epochs, those resets alone, without pruning, took the unpruned model from 79% to 86%; in
  the 6-epoch fit they cost it 3 points (73% to 70%, 10 seeds), and on MNIST-1D they change nothing (3 seeds).
- `..., window 0.2-0.8` and `..., window 0-1` (`--only window`): when to prune. fasterprune's `large_final` local and
  global, and the peers' local rows (fasterai `large_final` and `random`, Torch-Pruning `magnitude` and `taylor`),
  pruning along AGP from 20% to 80% of training (`LATE`) instead of 10% to 60%: later, through the learning rate's
  peak, with a fifth of the fit left to recover; and `large_final` local (then the default) along `agp` over the whole fit (no step left
  after the last prune; `PruneCallback`'s default schedule before this study). `--window-table` prints them beside
  the same rows at 10%-60%, with their paired differences. The shipped digits32 results add, at 4x only, `large_final`
  local from 5% to 35% and from 30% to 90% (with `run_row`): the windows tried before 20%-80% was run everywhere;
  the MNIST-1D results add seeds 3 to 9 to the unpruned row and to `large_final` local at each of its three windows.

fasterai and Torch-Pruning take a channel ratio: for each task, criteria, context and speed-up it is bisected so that
a one-shot prune of a copy of the trained unpruned model (seed 0) has S-fold fewer MACs (counted by fasterprune's
`count_macs`, one sample, eval mode); a gradual prune can land elsewhere, so every row reports the speed-up measured at
the end of its own fit.

On digits32 (a resnet18 fit takes ~20-55 s here) the default grid leaves out fasterprune's `movement` and
Torch-Pruning's `random` rows and runs the fasterai and Torch-Pruning rows on 2 seeds; `--full` runs everything.

With `--protocol trained`, the benchmark prunes a trained model while it is fine-tuned, as practitioners mostly do
(the default, `--protocol scratch`, is everything above). For each seed, every row starts from that seed's trained
unpruned model (the `unpruned` run, trained the task's epochs and cached next to the results as `<task>_e<N>_unpruned_s<seed>.pt`)
and fine-tunes it for half as many epochs (digits32 3, mnist1d 4) with a one-cycle fit at a tenth of the task's lr
(`FT_LR_DIV`, `--ft-lr-div`: digits32 3e-4, mnist1d 1e-3; the peers' plain loops with the same one-cycle schedule
over those epochs at that lr), every seed of every row; every gradual row prunes along AGP from
0% to 50% of the fine-tune (`GRADUAL_FT`, fasterai's schedule squeezed the same, Torch-Pruning's `k=10` steps over the
first half). Its rows, named `trained: ...`: `trained: fine-tuned, unpruned` (the same fine-tune without pruning, the
baseline the verdicts compare to), fasterprune's `large_final`, `random` and `taylor` x local, global agp (default
normalize), `large_final` local and global `one-shot+ft` (one `Pruner(speed_up=S).prune_model()` at the start,
`recalibrate_bn`, a new optimizer, the whole fine-tune), `large_final global agp + distillation` (`DistillCallback()`,
whose teacher is the trained model as the fine-tune starts), `large_final global agp, first fifth` with and without the global
ranking's floor (`, no floor`: `max_pruning_ratio=99.9`; AGP over the first fifth of the fine-tune, `FIFTH_FT`: what the floor is for), fasterai `large_final`, `random` x local, global agp, and
Torch-Pruning `magnitude`, `taylor` x local, global agp and `magnitude local one-shot+ft` (one `step()` of its
`MetaPruner` before the first batch, then the plain loop: its own recipe). The peers' ratios are calibrated on the
trained model of seed 0, as in the scratch protocol. Its runs keep `epochs` = the training budget of the model they
start from (so `--epochs` means the same in both protocols) and note `finetune_epochs`, `finetune_lr` and
`ft_lr_div`. The fine-tune's lr tells runs apart (the method names stay the same): resuming skips only the runs of the
same divisor and the table shows only those (a trained run without `ft_lr_div` is one of the first, which fine-tuned
at the task's lr, as in training: `--ft-lr-div 1` shows them). At the task's lr the fine-tune re-trains more than it
fine-tunes (on digits32 the fine-tuned unpruned baseline fell from 72.1 to 66.7), hence the tenth.

How to read the table: test accuracy in %, mean ± std over the seeds; `[x.xx]` is the measured speed-up (mean over
seeds) when it is more than 5% away from the target; `—` a cell not run. The verdicts name the best row per speed-up
among those that met it (within 5%), each with its gap to the protocol's baseline (`unpruned`, or
`trained: fine-tuned, unpruned`), and the rank of fasterprune's defaults (`taylor_abs`, local, AGP: `PruneCallback`'s, chosen from these
runs) and of the same with `context='global'` (default normalize). Under each verdict, each of those two rows is compared with the
best peer row (fasterai or Torch-Pruning) that met the target and with the best row: the paired difference in points
over the seeds both ran (the same seed is the same data, init or trained model), its mean ± the half-width of a 95%
Student-t interval, and `ahead`, `tied` (the interval holds 0) or `behind`. Every fit is saved to the
results JSON as it ends and a restarted run skips what is there.
The runs behind the accuracy tutorial ship in `benchmarks/results/accuracy_<task>.json`
(`--table --task digits32 --results benchmarks/results/accuracy_digits32.json` prints one).
On digits32 they add seeds 3 to 9 to the unpruned row, fasterprune's `large_final` local and global rows (then the defaults), its `taylor` rows (local,
and global with the default normalize) and the peers' local rows (with `run_row`), to tell apart rows within a
point of each other, and a row `fasterprune taylor global agp norm=mean, rerun`: `taylor` ranked with
normalize='mean' again with today's defaults over 10 seeds, to check the 3-seed `norm=mean` row that had the best
mean at 4x. The two `optimizer rebuilt` rows there ran later, 10 seeds (`--only resets --seeds 10`); on MNIST-1D, 3;
so did the `taylor_abs` rows (10 seeds on digits32; on MNIST-1D 10 local, 3 global). fasterprune's rows ran with `PruneCallback`'s
BatchNorm recalibration and the global ranking's 10% floor, except the `norm=` rows (and the other criteria's
global rows marked `norm=mean`), which ran before both and are kept as the record of how `normalize` was chosen
(their runs carry no `rerun` key). `benchmarks/results/accuracy_digits32_e24.json` holds digits32 trained four times
longer (`--task digits32 --epochs 24 --only fasterprune` and `--only oneshot,fasterai,tp`, each into its own file, one
process each, merged, and `--only resets`: about 70 s a fit on one thread, 3 seeds, the peers 2; seeds 3 and 4 added
to the two unpruned rows, `large_final` local with and without the resets with `run_row`), where every row has 312 optimizer steps
instead of 78 (the pruned model 125 to recover instead of 31). The trained protocol's runs ship in
`benchmarks/results/accuracy_trained_<task>.json`, both fine-tunes (`--ft-lr-div 1` and the default 10) in one file
(at lr/10 on MNIST-1D, seeds 3 to 9 added later with `run_row` to the baseline, fasterprune's `large_final` and `taylor`
rows, Torch-Pruning's local and one-shot rows, and the `taylor_abs` rows, run on 10 seeds; on digits32, at both lrs, seeds 3 to 9 of the baseline, `large_final` and `taylor_abs` local and
Torch-Pruning's one-shot row):
at a tenth of the lr the unpruned baseline keeps its accuracy, and 1.5 epochs at a small lr after the last prune
recover only part of what 4x and 8x remove (on digits32, 59% at 4x; 54% before `PruneCallback` measured BatchNorm
statistics again after each epoch that pruned), about as much as pruning once at the start.

    python benchmarks/accuracy.py [--task mnist1d|digits32|all] [--seeds 3] [--epochs N] [--speedups 2,4,8]
                                  [--only fasterprune,fasterai,tp,oneshot,normalize,resets,window] [--quick] [--full] [--results PATH] [--table]
                                  [--window-table]
    python benchmarks/accuracy.py --protocol trained [--task mnist1d|digits32|all] [--seeds 3] [--speedups 2,4,8]
                                  [--only fasterprune,oneshot,distill,fasterai,tp] [--ft-lr-div 10] [--results PATH] [--table]
"""
import argparse, contextlib, copy, inspect, io, json, math, os, statistics, sys, time, warnings
import torch, torch.nn as nn
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tasks import TASKS, task_learner, example_input
from fasterprune.all import PruneCallback, Pruner, DistillCallback, count_macs, count_params, sched_agp, warmup_prune_finetune, agp
from fasterprune.criteria import large_final, random as fp_random, taylor, taylor_abs, movement
from fasterprune.recalibrate import recalibrate_bn
from fastai.callback.core import Callback

WARMUP, END, TP_STEPS = 0.1, 0.6, 10  # every gradual row prunes along AGP from 10% to 60% of training
GRADUAL = warmup_prune_finetune(sched_agp, warmup=WARMUP, finetune=1 - END)
LATE = (0.2, 0.8)  # the window study (`--only window`): AGP from 20% to 80% of training
WINDOW = f'window {LATE[0]:g}-{LATE[1]:g}'  # its rows' suffix
FT_END = 0.5  # the trained protocol: every gradual row prunes along AGP from 0% to 50% of the fine-tune
GRADUAL_FT = warmup_prune_finetune(sched_agp, warmup=0., finetune=1 - FT_END)
FIFTH_FT = warmup_prune_finetune(sched_agp, warmup=0., finetune=0.8)  # AGP over the first fifth of the fine-tune: a few large prune events
FT_LR_DIV = 10  # the trained protocol fine-tunes at the task's lr / FT_LR_DIV (`--ft-lr-div`)
TRAINED = 'trained: '  # the prefix of the trained protocol's rows
FT_BASELINE = TRAINED + 'fine-tuned, unpruned'  # its baseline: the same fine-tune, no pruning
FP_CRITERIA = {'large_final': large_final, 'random': fp_random, 'taylor': taylor, 'taylor_abs': taylor_abs, 'movement': movement}
TP_IMPORTANCE = ('magnitude', 'taylor', 'random')
GRID = {  # per task: fasterprune criteria, Torch-Pruning importances, seeds of the peer rows (None: all)
    'mnist1d':  dict(criteria=tuple(FP_CRITERIA), tp=TP_IMPORTANCE, peer_seeds=None),
    'digits32': dict(criteria=('large_final', 'random', 'taylor', 'taylor_abs'), tp=('magnitude', 'taylor'), peer_seeds=2),
}
DEFAULT_ROW = 'fasterprune taylor_abs local agp'  # `PruneCallback`'s defaults: taylor_abs, local
GLOBAL_ROW = 'fasterprune taylor_abs global agp'  # and with context='global' (its default normalize)
LARGE_FINAL_ROW = 'fasterprune large_final local agp'  # the default before these runs chose `taylor_abs`: the studies of windows and resets ran on it
UNPRUNED_RESETS = 'unpruned, optimizer rebuilt 10 times'  # no pruning, a new optimizer where `run_tp` prunes (its loop rebuilds one)
RESET_ROW = 'fasterprune large_final local agp, optimizer rebuilt 10 times'  # `large_final` local, with the same resets

def has_normalize(): return 'normalize' in inspect.signature(PruneCallback).parameters
def normalize_values():
    "The `normalize` choices other than the default, which the plain global rows use"
    from fasterprune.planning import NORMALIZE
    default = inspect.signature(Pruner).parameters['normalize'].default
    return tuple(v for v in NORMALIZE if v != default)

# --- measuring ---
def macs(model, task:str)->int:
    "MACs of one sample of `task` through `model`, in eval mode (the mode is restored)"
    mode = model.training
    try: return count_macs(model.eval(), example_input(task))
    finally: model.train(mode)

def last_linear(model): return [m for m in model.modules() if isinstance(m, nn.Linear)][-1]
def quiet(): return contextlib.redirect_stdout(io.StringIO())  # fasterai prints every ignored layer and epoch

def fit(learn, epochs:int, lr:float, cbs=()):
    with learn.no_bar(), learn.no_logging(), quiet(): learn.fit_one_cycle(epochs, lr, cbs=list(cbs))

def evaluate(learn)->float:
    with learn.no_bar(), learn.no_logging(): return float(learn.validate()[1])

# --- the row runners: each trains one seed and returns the trained learner ---
def learner(task, seed, init=None):
    "`task_learner(task, seed)`, its model loaded from the state dict `init` when there is one (the trained protocol)"
    learn = task_learner(task, seed)
    if init is not None: learn.model.load_state_dict(init)
    return learn

def run_unpruned(task, seed, epochs, S=None, init=None, lr=None, resets=False, **kw):
    learn = learner(task, seed, init)
    learn.dls.train.one_batch()  # as the callbacks do: the same data order for every row
    fit(learn, epochs, lr or TASKS[task]['lr'], rebuilds(learn, epochs, resets))
    return learn

def run_fasterprune(task, seed, epochs, S, criteria='large_final', context='global', init=None, schedule=GRADUAL, distill=False, lr=None, resets=False, **kw):
    learn = learner(task, seed, init)
    cbs = [PruneCallback(speed_up=S, schedule=schedule, context=context, criteria=FP_CRITERIA[criteria], **kw)]
    cbs += [DistillCallback()] if distill else []  # the teacher: the model as the fit starts
    fit(learn, epochs, lr or TASKS[task]['lr'], cbs + rebuilds(learn, epochs, resets))
    return learn

class RebuildOptimizer(Callback):
    "A new optimizer (its state empty, as Torch-Pruning's loop has after each step) after each training step in `at`, the 1-based steps"
    order = 50  # after `PruneCallback` (40): the new optimizer holds the pruned parameters
    def __init__(self, at:set): self.at = at
    def after_batch(self):
        if self.training and self.train_iter in self.at: self.learn.opt = None; self.learn.create_opt()

def reset_steps(n:int, window=(WARMUP, END))->set:
    "The 1-based steps of an `n`-step fit after which `run_tp` prunes and rebuilds its optimizer: `TP_STEPS` along `window`"
    return {round(n * (window[0] + (window[1] - window[0]) * j / TP_STEPS)) for j in range(1, TP_STEPS + 1)}

def rebuilds(learn, epochs:int, resets:bool)->list:
    "`[RebuildOptimizer]` at the steps where `run_tp` rebuilds its optimizer in an `epochs` fit of `learn`, if `resets`"
    return [RebuildOptimizer(reset_steps(len(learn.dls.train) * epochs))] if resets else []

def run_resets(task, seed, epochs, S, criteria=None, **kw):
    "The control rows of `run_tp`'s optimizer resets: `run_unpruned` (`criteria=None`) or `run_fasterprune`, with a new optimizer after each step where `run_tp` prunes"
    if criteria is None: return run_unpruned(task, seed, epochs, S, resets=True, **kw)
    return run_fasterprune(task, seed, epochs, S, criteria=criteria, resets=True, **kw)

def run_oneshot(task, seed, epochs, S, criteria='large_final', context='global', init=None, lr=None, **kw):
    """Half the epochs, one prune to S-fold fewer MACs, BatchNorm recalibrated, a fresh one-cycle fit of the other half;
    from a trained model (`init`), the prune comes first and the fit takes all the epochs"""
    lr, learn = lr or TASKS[task]['lr'], learner(task, seed, init)
    xb = learn.dls.train.one_batch()[0][:4]
    first = epochs // 2 if init is None else 0
    if first: fit(learn, first, lr)
    Pruner(learn.model, speed_up=S, context=context, criteria=FP_CRITERIA[criteria], example_inputs=xb, verbose=False).prune_model()
    recalibrate_bn(learn)
    learn.opt = None  # a new optimizer over the pruned parameters
    fit(learn, epochs - first, lr)
    return learn

def fa_parts(criteria, window=(WARMUP, END)):
    from fasterai.prune.all import PruneCallback as FaPruneCallback, Pruner as FaPruner, Schedule as FaSchedule
    from fasterai.core.granularity import Granularities  # 0.4.1 scores a Conv1d like a Linear, which has no 'filter'
    Granularities.add_granularity(nn.Conv1d, {'weight': 0, 'shared_weight': 1, 'channel': 2, 'kernel': 3, 'filter': (2, 3), 'shared_kernel': (1, 3)})
    from fasterai.prune.all import large_final as fa_large_final, random as fa_random, sched_agp as fa_sched_agp
    w0, w1 = window
    def squeezed(start, end, pos):  # fasterai's callback reads only the schedule's function, over the whole fit
        return start if pos < w0 else fa_sched_agp(start, end, min((pos - w0) / (w1 - w0), 1.))
    return FaPruneCallback, FaPruner, FaSchedule(squeezed), dict(large_final=fa_large_final, random=fa_random)[criteria]

def run_fasterai(task, seed, epochs, S, criteria='large_final', context='local', ratio=None, init=None, window=(WARMUP, END), lr=None, **kw):
    FaPruneCallback, _, sched, crit = fa_parts(criteria, window)
    learn = learner(task, seed, init)
    xb = learn.dls.train.one_batch()[0][:4]  # its callback reads a batch but traces on a 3x224x224 input unless given one
    fit(learn, epochs, lr or TASKS[task]['lr'], [FaPruneCallback(ratio, sched, context, crit, example_inputs=xb)])
    return learn

def tp_importance(name):
    import torch_pruning as tp
    return {'magnitude': lambda: tp.importance.MagnitudeImportance(p=1), 'taylor': tp.importance.TaylorImportance,
            'random': tp.importance.RandomImportance}[name]()

def tp_pruner(model, xb, importance, context, ratio, steps=1):
    import torch_pruning as tp
    agp_ratios = lambda r, n: [r * sched_agp(0., 1., i / n) for i in range(n + 1)]
    return tp.pruner.MetaPruner(model, xb, importance=tp_importance(importance), pruning_ratio=ratio, global_pruning=context == 'global',
                                iterative_steps=steps, iterative_pruning_ratio_scheduler=agp_ratios, ignored_layers=[last_linear(model)])

def adamw(model, lr):
    "fastai's Adam as PyTorch's AdamW: decoupled weight decay 0.01, none on BatchNorm and biases"
    norms = (nn.modules.batchnorm._BatchNorm, nn.LayerNorm, nn.GroupNorm)
    no_wd = {id(p) for m in model.modules() for n, p in m.named_parameters(recurse=False) if isinstance(m, norms) or n == 'bias'}
    groups = [dict(params=[p for p in model.parameters() if id(p) not in no_wd]),
              dict(params=[p for p in model.parameters() if id(p) in no_wd], weight_decay=0.)]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99), eps=1e-5, weight_decay=0.01)

def one_cycle(n:int, lr:float)->list:
    "`(lr, beta1)` of each of `n` steps of `OneCycleLR` with fastai's `fit_one_cycle` defaults"
    opt = torch.optim.AdamW([torch.zeros(1, requires_grad=True)], lr=lr, betas=(0.95, 0.99))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, lr, total_steps=n, pct_start=0.25, anneal_strategy='cos', base_momentum=0.85,
                                                max_momentum=0.95, div_factor=25., final_div_factor=1e5 / 25.)
    out = []
    for _ in range(n): out.append((opt.param_groups[0]['lr'], opt.param_groups[0]['betas'][0])); opt.step(); sched.step()
    return out

def run_tp(task, seed, epochs, S, criteria='magnitude', context='local', ratio=None, init=None, window=(WARMUP, END), oneshot=False, lr=None, **kw):
    """Torch-Pruning in a plain loop: `TP_STEPS` steps spread over `window` (default 10%-60%) of training, the optimizer
    rebuilt after each; `oneshot`: one step before the first batch, then the plain loop (Torch-Pruning's own recipe)"""
    lr, learn = lr or TASKS[task]['lr'], learner(task, seed, init)
    model, dl, loss_func = learn.model, learn.dls.train, nn.CrossEntropyLoss()
    xb = dl.one_batch()[0][:4]
    pruner = tp_pruner(model, xb, criteria, context, ratio, 1 if oneshot else TP_STEPS)
    n = len(dl) * epochs
    prune_at = set() if oneshot else reset_steps(n, window)
    if oneshot:
        if criteria == 'taylor':
            x, y = next(iter(dl)); model.zero_grad(); loss_func(model(x), y).backward()
        pruner.step(); model.zero_grad()
    sched, opt, i = one_cycle(n, lr), adamw(model, lr), 0
    for _ in range(epochs):
        model.train()
        for x, y in dl:
            for g in opt.param_groups: g['lr'], g['betas'] = sched[i][0], (sched[i][1], 0.99)
            loss = loss_func(model(x), y); opt.zero_grad(); loss.backward(); opt.step()
            i += 1
            if i in prune_at:
                if criteria == 'taylor': model.zero_grad(); loss_func(model(x), y).backward()  # Taylor reads the gradients
                pruner.step(); model.zero_grad()
                opt = adamw(model, lr)
    return learn

RUNNERS = dict(unpruned=run_unpruned, fasterprune=run_fasterprune, oneshot=run_oneshot, normalize=run_fasterprune,
               fasterai=run_fasterai, tp=run_tp, distill=run_fasterprune, resets=run_resets)

# --- the ratio that gives S-fold fewer MACs, for the libraries that take one ---
def oneshot_macs(lib, task, model, criteria, context, ratio)->int:
    "MACs after one prune of a copy of `model` to `ratio` of the channels with `lib`'s own pruner"
    m, xb = copy.deepcopy(model).train(), TASKS[task]['data']()[0][:32]
    if lib == 'fasterai':
        _, FaPruner, _, crit = fa_parts(criteria)
        with quiet(): FaPruner(m, ratio, context, crit, example_inputs=xb[:4]).prune_model()
    else:
        p = tp_pruner(m, xb[:4], criteria, context, ratio)
        if criteria == 'taylor': m.zero_grad(); nn.functional.cross_entropy(m(xb), TASKS[task]['data']()[1][:32]).backward()
        p.step()
    return macs(m, task)

def calibrate(lib, task, model, criteria, context, S, iters=12)->float:
    "Bisect the channel ratio whose one-shot prune leaves `1/S` of the MACs of `model`"
    target, lo, hi = macs(model, task) / S, 0., 0.99
    for _ in range(iters):
        mid = (lo + hi) / 2
        torch.manual_seed(0)
        lo, hi = (mid, hi) if oneshot_macs(lib, task, model, criteria, context, mid) > target else (lo, mid)
    return round((lo + hi) / 2, 4)

# --- rows, runs and results ---
def trained_rows(quick=False)->list:
    "`(name, lib, kwargs)` of the trained protocol's pruned rows: every gradual row prunes along AGP over the first half of the fine-tune"
    fp, peer = dict(schedule=GRADUAL_FT), dict(window=(0., FT_END))
    out = [(f'fasterprune {c} {x} agp', 'fasterprune', dict(criteria=c, context=x, **fp)) for c in ('large_final', 'random', 'taylor', 'taylor_abs') for x in ('local', 'global')]
    out += [(f'fasterprune large_final {x} one-shot+ft', 'oneshot', dict(criteria='large_final', context=x)) for x in ('local', 'global')]
    out += [('fasterprune large_final global agp + distillation', 'distill', dict(criteria='large_final', context='global', distill=True, **fp))]
    out += [(f'fasterprune large_final global agp, first fifth{no}', 'fasterprune', dict(criteria='large_final', context='global', schedule=FIFTH_FT, **kw))
            for no, kw in (('', {}), (', no floor', dict(max_pruning_ratio=99.9)))]  # what the global floor is for
    out += [(f'fasterai {c} {x} agp', 'fasterai', dict(criteria=c, context=x, **peer)) for c in ('large_final', 'random') for x in ('local', 'global')]
    out += [(f'tp {c} {x} agp', 'tp', dict(criteria=c, context=x, **peer)) for c in ('magnitude', 'taylor') for x in ('local', 'global')]
    out += [('tp magnitude local one-shot+ft', 'tp', dict(criteria='magnitude', context='local', oneshot=True))]
    if quick: out = [r for r in out if r[0] in (DEFAULT_ROW, 'fasterprune large_final global one-shot+ft',
                                                'fasterai large_final local agp', 'tp magnitude local agp')]
    return [(TRAINED + name, lib, kw) for name, lib, kw in out]

def rows(task, only=None, quick=False, protocol='scratch')->list:
    "`(name, lib, kwargs)` of every row for `task` in `protocol`, restricted to the libraries in `only`"
    g = GRID[task]
    if protocol == 'trained': out = trained_rows(quick)
    elif quick:
        out = [(DEFAULT_ROW, 'fasterprune', dict(criteria='taylor_abs', context='local')),  # `PruneCallback`'s defaults
               ('fasterprune large_final global one-shot+ft', 'oneshot', dict(criteria='large_final', context='global')),
               ('fasterai large_final local agp', 'fasterai', dict(criteria='large_final', context='local')),
               ('tp magnitude local agp', 'tp', dict(criteria='magnitude', context='local'))]
    else:
        out = [(f'fasterprune {c} {x} agp', 'fasterprune', dict(criteria=c, context=x)) for c in g['criteria'] for x in ('local', 'global')]
        out += [(f'fasterprune large_final {x} one-shot+ft', 'oneshot', dict(criteria='large_final', context=x)) for x in ('local', 'global')]
        out += [(f'fasterprune large_final global agp norm={v}', 'normalize', dict(criteria='large_final', context='global', normalize=v))
                for v in normalize_values()]
        out += [(f'fasterai {c} {x} agp', 'fasterai', dict(criteria=c, context=x)) for c in ('large_final', 'random') for x in ('local', 'global')]
        out += [(f'tp {c} {x} agp', 'tp', dict(criteria=c, context=x)) for c in g['tp'] for x in ('local', 'global')]
        out += [(RESET_ROW, 'resets', dict(criteria='large_final', context='local'))]  # with Torch-Pruning's optimizer resets
    out = [r for r in out if only is None or r[1] in only]
    return out + (window_rows() if protocol == 'scratch' and not quick and (only is None or 'window' in only) else [])

def window_rows()->list:
    "`(name, lib, kwargs)` of the window study: `large_final` local and global and the peers' local rows along AGP over `LATE`, and `large_final` local along `agp` over the whole fit"
    late = warmup_prune_finetune(sched_agp, warmup=LATE[0], finetune=1 - LATE[1])
    out = [(f'fasterprune large_final {x} agp, {WINDOW}', 'fasterprune', dict(criteria='large_final', context=x, schedule=late)) for x in ('local', 'global')]
    out += [('fasterprune large_final local agp, window 0-1', 'fasterprune', dict(criteria='large_final', context='local', schedule=agp))]
    out += [(f'{lib} {c} local agp, {WINDOW}', lib, dict(criteria=c, context='local', window=LATE))
            for lib, cs in (('fasterai', ('large_final', 'random')), ('tp', ('magnitude', 'taylor'))) for c in cs]
    return out

class Results:
    "Every run of a task in a JSON file, written after each run; the calibrated ratios too"
    def __init__(self, path):
        self.path = path
        self.data = json.load(open(path)) if os.path.exists(path) else dict(runs=[], calibration={})
    def save(self):
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
        tmp = self.path + '.tmp'
        with open(tmp, 'w') as f: json.dump(self.data, f, indent=1)
        os.replace(tmp, self.path)
    def find(self, method, seed, target, epochs, ft_lr_div=None):
        "The run of `method`, `seed`, `target`, `epochs` (a trained-protocol row's: fine-tuned at the task's lr / `ft_lr_div`)"
        return next((r for r in self.data['runs'] if (r['method'], r['seed'], r['target'], r['epochs']) == (method, seed, target, epochs)
                     and same_ft_lr(r, ft_lr_div)), None)
    def add(self, run): self.data['runs'].append(run); self.save()

def run_ft_lr_div(run)->float:
    "The lr divisor of a trained-protocol run's fine-tune: 1 for the runs recorded before it was noted (they fine-tuned at the task's lr)"
    return run.get('ft_lr_div', 1)

def same_ft_lr(run, ft_lr_div=None)->bool:
    "Whether `run` is not a trained-protocol run, or one fine-tuned at the task's lr / `ft_lr_div` (default `FT_LR_DIV`)"
    return not run['method'].startswith(TRAINED) or run_ft_lr_div(run) == (FT_LR_DIV if ft_lr_div is None else ft_lr_div)

def unpruned_model(task, epochs, res:Results, seed=0):
    "The trained unpruned model of `seed` (saved next to the results), trained if missing"
    path = os.path.join(os.path.dirname(os.path.abspath(res.path)), f'{task}_e{epochs}_unpruned_s{seed}.pt')
    model = TASKS[task]['model']()
    if os.path.exists(path): model.load_state_dict(torch.load(path)); return model
    t = time.perf_counter()
    learn = run_unpruned(task, seed, epochs)
    torch.save(learn.model.state_dict(), path)
    if res.find('unpruned', seed, 1, epochs) is None: record(res, task, 'unpruned', seed, 1, epochs, learn, None, time.perf_counter() - t)
    return learn.model

def ratio_for(lib, task, criteria, context, S, epochs, res:Results)->float:
    key = f'{lib} {criteria} {context} {S:g}x e{epochs}'
    if key not in res.data['calibration']:
        warnings.simplefilter('ignore')
        t = time.perf_counter()
        res.data['calibration'][key] = calibrate(lib, task, unpruned_model(task, epochs, res), criteria, context, S)
        print(f"  calibrated {key}: ratio {res.data['calibration'][key]:.4f} ({time.perf_counter() - t:.0f}s)", flush=True)
        res.save()
    return res.data['calibration'][key]

def record(res, task, method, seed, S, epochs, learn, ratio, seconds, **extra):
    m0 = macs(TASKS[task]['model'](), task)
    m1 = macs(learn.model, task)
    run = dict(task=task, method=method, seed=seed, target=S, epochs=epochs, macs=m1, macs_unpruned=m0, speed_up=m0 / m1,
               params=count_params(learn.model), accuracy=evaluate(learn), seconds=round(seconds, 2), ratio=ratio, **extra)
    res.add(run)
    print(f"  {method:<46} {S:g}x seed {seed}: acc {run['accuracy']:.4f}, speed-up {run['speed_up']:.2f}, {run['seconds']:.1f}s", flush=True)
    return run

def run_row(task, name, lib, kw, seeds, S, epochs, res:Results, protocol='scratch'):
    """Train every seed of one row at speed-up `S` that the results do not hold yet. `protocol='trained'`: start from
    the seed's unpruned model trained `epochs` (trained if missing) and fine-tune `epochs // 2` at the task's lr /
    `FT_LR_DIV` (the run notes `finetune_epochs`, `finetune_lr` and `ft_lr_div`; its `epochs` stays the training budget
    of the model it started from)"""
    for seed in seeds:
        if res.find(name, seed, S, epochs) is not None: continue
        kw, extra, n_epochs = dict(kw), {}, epochs
        ratio = ratio_for(lib, task, kw['criteria'], kw['context'], S, epochs, res) if lib in ('fasterai', 'tp') else None
        if ratio is not None: kw['ratio'] = ratio
        if protocol == 'trained':
            kw['init'] = unpruned_model(task, epochs, res, seed).state_dict()
            n_epochs = extra['finetune_epochs'] = max(1, epochs // 2)
            kw['lr'] = extra['finetune_lr'] = TASKS[task]['lr'] / FT_LR_DIV
            extra['ft_lr_div'] = FT_LR_DIV
        warnings.simplefilter('ignore')
        t = time.perf_counter()
        learn = RUNNERS[lib](task, seed, n_epochs, S, **kw)
        record(res, task, name, seed, S, epochs, learn, ratio, time.perf_counter() - t, **extra)

def default_results(task, quick=False, protocol='scratch'):
    return f'/tmp/acc/{"quick_" if quick else ""}{"trained_" if protocol == "trained" else ""}results_{task}.json'

def run_task(task, seeds=3, epochs=None, speedups=(2, 4, 8), only=None, quick=False, full=False, results=None, protocol='scratch'):
    """Run every missing fit of `task`'s grid into `results` (a path), then print its table; returns the `Results`.
    `protocol='trained'`: every row starts from its seed's trained unpruned model and fine-tunes `epochs // 2`, every seed"""
    epochs = epochs or (max(1, TASKS[task]['epochs'] // 4) if quick else TASKS[task]['epochs'])
    res = Results(results or default_results(task, quick, protocol))
    peer = None if (full or quick or protocol == 'trained') else GRID[task]['peer_seeds']
    seed_list = list(range(seeds))
    unpruned_model(task, epochs, res)  # seed 0, which the calibration reads
    if protocol == 'trained':
        for seed in seed_list: unpruned_model(task, epochs, res, seed)  # each seed's starting point (its `unpruned` run)
        run_row(task, FT_BASELINE, 'unpruned', {}, seed_list, 1, epochs, res, protocol)
    else:
        run_row(task, 'unpruned', 'unpruned', {}, seed_list, 1, epochs, res)
        if not quick and (only is None or 'resets' in only): run_row(task, UNPRUNED_RESETS, 'resets', {}, seed_list, 1, epochs, res)  # the control of `run_tp`'s resets
    todo = rows(task, only, quick, protocol)
    if any(lib == 'normalize' for _, lib, _ in todo) and not has_normalize():
        print("  normalize rows skipped: this fasterprune's PruneCallback takes no `normalize` (rerun with --only normalize once it does)")
        todo = [r for r in todo if r[1] != 'normalize']
    for S in speedups:
        for name, lib, kw in todo:
            run_row(task, name, lib, kw, seed_list[:peer] if lib in ('fasterai', 'tp') else seed_list, S, epochs, res, protocol)
    print_table(task, res.data['runs'], speedups, epochs, protocol)
    return res

# --- the table ---
def cell(runs)->tuple:
    "`(mean accuracy %, std %, mean speed-up)` of some runs"
    accs = [100 * r['accuracy'] for r in runs]
    return statistics.mean(accs), statistics.stdev(accs) if len(accs) > 1 else 0., statistics.mean(r['speed_up'] for r in runs)

def table(runs, speedups, epochs=None)->dict:
    "`{method: {target: cell}}` of the runs of one task"
    out = {}
    for r in runs:
        if epochs is None or r['epochs'] == epochs: out.setdefault(r['method'], {}).setdefault(r['target'], []).append(r)
    return {m: {s: cell(v) for s, v in t.items()} for m, t in out.items()}

def fmt(c, S)->str:
    if c is None: return '—'
    mean, std, sp = c
    return f"{mean:.1f} ± {std:.1f}" + (f" [{sp:.2f}]" if abs(sp / S - 1) > 0.05 else '')

PEERS = ('fasterai ', 'tp ')  # the peer libraries' rows start so (after the trained protocol's prefix)

def paired(runs, a:str, b:str, S, epochs=None, b_target=None)->tuple:
    """`(mean, half-width of its 95% interval, n)` of row `a`'s accuracy minus row `b`'s, in points, over the seeds both
    ran at speed-up `S` (`b` at `b_target` if given: 1 for an unpruned row): the same seed is the same data order and
    init (or trained model), so the difference is paired"""
    from scipy.stats import t as student
    acc = lambda m, s: {r['seed']: 100 * r['accuracy'] for r in runs if r['method'] == m and r['target'] == s and (epochs is None or r['epochs'] == epochs)}
    x, y = acc(a, S), acc(b, S if b_target is None else b_target)
    d = [x[k] - y[k] for k in sorted(x.keys() & y.keys())]
    if len(d) < 2: return (statistics.mean(d) if d else math.nan), math.nan, len(d)
    return statistics.mean(d), float(student.ppf(0.975, len(d) - 1)) * statistics.stdev(d) / math.sqrt(len(d)), len(d)

def verdict(diff:tuple)->str:
    "'ahead', 'tied' or 'behind': whether the 95% interval of a paired difference lies above 0, holds it, or lies below"
    mean, half, _ = diff
    return 'tied' if math.isnan(half) or abs(mean) <= half else 'ahead' if mean > 0 else 'behind'

def print_table(task, runs, speedups=(2, 4, 8), epochs=None, protocol='scratch'):
    """One table of a task's runs of `protocol`: rows = method, columns = speed-up; then one verdict per speed-up, the
    gaps to the protocol's baseline ('unpruned', or 'trained: fine-tuned, unpruned') included"""
    trained = protocol == 'trained'
    prefix, baseline = (TRAINED, FT_BASELINE) if trained else ('', 'unpruned')
    runs = [r for r in runs if (r['method'] == 'unpruned' or r['method'].startswith(TRAINED) == trained) and same_ft_lr(r) and not in_window_study(r)]
    t = table(runs, speedups, epochs)
    n = {m: max((len([r for r in runs if r['method'] == m and r['target'] == s and (epochs is None or r['epochs'] == epochs)])
                 for s in v), default=0) for m, v in t.items()}
    w = max([len(m) for m in t] + [10]) + 6
    ft = [r.get('finetune_epochs') for r in runs if r['method'].startswith(TRAINED) and (epochs is None or r['epochs'] == epochs)]
    about = (f", {epochs} epochs" if epochs else '') if not trained else \
            (f", the model trained {epochs or '?'} epochs ('unpruned') then fine-tuned {ft[0] if ft else '?'} epochs at lr/{FT_LR_DIV:g}")
    print(f"\n{task}: test accuracy %, mean ± std over seeds [measured speed-up when >5% off]" + about)
    print(f"{'method':<{w}}{'1x':>12}" + ''.join(f"{f'{s:g}x':>22}" for s in speedups))
    label = lambda m: f"{m} (n={n[m]})"
    first = [m for m in dict.fromkeys(('unpruned', baseline, *(m for m, v in t.items() if 1 in v))) if m in t]  # the rows of 1x, on top
    for m in first: print(f"{label(m):<{w}}{fmt(t[m].get(1), 1):>12}")
    for m, v in t.items():
        if m not in first: print(f"{label(m):<{w}}{'':>12}" + ''.join(f"{fmt(v.get(s), s):>22}" for s in speedups))
    base = t[baseline][1][0] if baseline in t and 1 in t[baseline] else None
    gap = lambda acc: f", {acc - base:+.1f} vs {baseline}" if base is not None else ''
    for s in speedups:
        ranked = sorted(((v[s][0], m) for m, v in t.items() if s in v and abs(v[s][2] / s - 1) <= 0.05), reverse=True)  # rows that met the target
        if not ranked: continue
        names = [m for _, m in ranked]
        default = '; '.join(f"{what} ({row}) ranks {names.index(row) + 1}/{len(names)} at {t[row][s][0]:.1f}{gap(t[row][s][0])}"
                            for what, row in (("fasterprune's default", prefix + DEFAULT_ROW), ("with context='global'", prefix + GLOBAL_ROW))
                            if row in names) or "fasterprune's default not run"
        print(f"{s:g}x: best {names[0]} ({ranked[0][0]:.1f}{gap(ranked[0][0])}); {default}")
        peers = [m for m in names if m[len(prefix):].startswith(PEERS)]
        for row in (prefix + DEFAULT_ROW, prefix + GLOBAL_ROW):
            if row not in names: continue
            others = [m for m in dict.fromkeys(peers[:1] + names[:1]) if m != row]  # the best peer row, and the best row
            if others: print(f"    {row[len(prefix):]} minus " + '; minus '.join(
                f"{m[len(prefix):]}: {d[0]:+.1f} ± {d[1]:.1f} (n={d[2]}, {verdict(d)})" for m in others for d in [paired(runs, row, m, s, epochs)]))

WINDOWED = ', window '  # in the name of every row of the window study

def in_window_study(run)->bool: return WINDOWED in run['method']

def print_window_table(task, runs, speedups=(2, 4, 8), epochs=None):
    """The window study of a task's from-scratch runs: each of its rows beside the same row along AGP from 10% to 60%,
    with their paired difference, then `large_final` local (the default when the study ran) at the later window against the unpruned model and the best peer row
    at that window"""
    runs = [r for r in runs if not r['method'].startswith(TRAINED) and (epochs is None or r['epochs'] == epochs)]
    t = table(runs, speedups, epochs)
    study = [m for m in t if WINDOWED in m]
    if not study: print(f"\n{task}: no window rows (`--only window`)"); return
    n = lambda m: max(len([r for r in runs if r['method'] == m and r['target'] == s]) for s in t[m])
    w = max(len(m.split(WINDOWED)[0]) for m in study) + 2
    print(f"\n{task}: when to prune, test accuracy %, mean ± std over seeds [measured speed-up when >5% off]; the window of "
          f"training AGP prunes over, each other window minus 0.1-0.6 paired (mean ± 95% half-width)" + (f", {epochs} epochs" if epochs else ''))
    print(f"{'method':<{w}}{'window':>18}" + ''.join(f"{f'{s:g}x':>22}" for s in speedups))
    if 'unpruned' in t: print(f"{'unpruned':<{w}}{'(n=%d)' % n('unpruned'):>18}{fmt(t['unpruned'].get(1), 1):>22}")
    bases = {}  # each row at 0.1-0.6, with its other windows in the order of their start
    for m in study: bases.setdefault(m.split(WINDOWED)[0], []).append(m)
    for base, others in bases.items():
        if base in t: print(f"{base:<{w}}{f'0.1-0.6 (n={n(base)})':>18}" + ''.join(f"{fmt(t[base].get(s), s):>22}" for s in speedups))
        for m in sorted(others, key=lambda m: float(m.split(WINDOWED)[1].split('-')[0])):
            label = '%s (n=%d)' % (m.split(WINDOWED)[1], n(m))
            print(f"{'' if base in t else base:<{w}}{label:>18}" + ''.join(f"{fmt(t[m].get(s), s):>22}" for s in speedups))
            if base not in t: continue
            ds = [paired(runs, m, base, s, epochs) for s in speedups]
            print(f"{'':<{w}}{'minus 0.1-0.6':>18}" + ''.join(f"{'—' if math.isnan(d[0]) else f'{d[0]:+.1f} ± {d[1]:.1f} {verdict(d)}':>22}" for d in ds))
    default = f'{LARGE_FINAL_ROW}, {WINDOW}'  # the study ran on it
    for s in speedups:
        met = sorted(((v[s][0], m) for m, v in t.items() if m in study and s in v and abs(v[s][2] / s - 1) <= 0.05), reverse=True)
        peer = next((m for _, m in met if m.startswith(PEERS)), None)
        if default not in t or s not in t[default]: continue
        lines = [f"minus {b}: {d[0]:+.1f} ± {d[1]:.1f} (n={d[2]}, {verdict(d)})"
                 for b, d in (('unpruned', paired(runs, default, 'unpruned', s, epochs, b_target=1)),
                              *([(peer, paired(runs, default, peer, s, epochs))] if peer else []))]
        print(f"{s:g}x: {default} " + '; '.join(lines))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--task', default='all', choices=['all', *TASKS])
    ap.add_argument('--seeds', type=int, default=3)
    ap.add_argument('--epochs', type=int, default=None, help="default: the task's (mnist1d 8, digits32 6)")
    ap.add_argument('--speedups', default='2,4,8')
    ap.add_argument('--only', default=None, help='comma-separated: fasterprune,fasterai,tp,oneshot,normalize,distill,resets,window (unpruned always runs)')
    ap.add_argument('--quick', action='store_true', help='1 seed, few epochs, 2x only, a few rows: a smoke test')
    ap.add_argument('--full', action='store_true', help="every row and seed on every task (default: the reduced digits32 grid)")
    ap.add_argument('--table', action='store_true', help='only print the tables of the results there are, run nothing')
    ap.add_argument('--window-table', action='store_true', help='only print the window study of the results there are (`--only window`), run nothing')
    ap.add_argument('--results', default=None, help='JSON file (default /tmp/acc/[trained_]results_<task>.json); resumed if it exists')
    ap.add_argument('--protocol', default='scratch', choices=['scratch', 'trained'],
                    help="scratch: prune while training from scratch; trained: prune a trained model while fine-tuning it for half its epochs")
    ap.add_argument('--ft-lr-div', type=float, default=FT_LR_DIV,
                    help="the trained protocol fine-tunes at the task's lr / this (default %(default)g); the runs of another divisor are told apart")
    args = ap.parse_args()
    FT_LR_DIV = int(args.ft_lr_div) if args.ft_lr_div == int(args.ft_lr_div) else args.ft_lr_div
    torch.set_num_threads(1)
    warnings.simplefilter('ignore')
    seeds, speedups = (1, (2,)) if args.quick else (args.seeds, tuple(float(s) for s in args.speedups.split(',')))
    speedups = tuple(int(s) if s == int(s) else s for s in speedups)
    only = None if args.only is None else set(args.only.split(','))
    for task in (TASKS if args.task == 'all' else [args.task]):
        path = args.results if args.task != 'all' or args.results is None else args.results.replace('.json', f'_{task}.json')
        if args.window_table:
            print_window_table(task, Results(path or default_results(task)).data['runs'], speedups, args.epochs or TASKS[task]['epochs']); continue
        if args.table:
            res = Results(path or default_results(task, args.quick, args.protocol))
            print_table(task, res.data['runs'], speedups, args.epochs or (max(1, TASKS[task]['epochs'] // 4) if args.quick else TASKS[task]['epochs']),
                        args.protocol); continue
        print(f"{task}:" + (" (trained protocol)" if args.protocol == 'trained' else ''), flush=True)
        run_task(task, seeds, args.epochs, speedups, only, args.quick, args.full, path, args.protocol)
