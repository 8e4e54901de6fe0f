"""Cost of `PruneCallback` in a fastai fit, side by side in one run (this machine is noisy, so read the ratios).

1. Fit time, `fit_one_cycle`, same data, model and seed: no callback, the callback at 0%, the callback with agp to
   50% (its default criteria, `taylor_abs`, which sums every step's gradients between prune events), the same with
   `criteria=large_final` (weights alone), and the same with `recalibrate=0` (without the forwards that measure BatchNorm statistics again after each
   epoch that pruned, on up to 20 training batches: the whole epoch here). On scikit-learn's digits with a small CNN (tiny: per-batch Python overhead dominates) and on resnet18 with
   synthetic 32x32 images, short fits of 24 and 48 batches and, with `--long`, a fit of 1000 batches. A prune event
   happens whenever some layer's integer target changes: at most 256 times for resnet18 at 50% (its widest layers
   lose 256 filters), on most batches of a short fit but on a quarter of the long one.
2. On resnet18, resnet50 and a fastai U-Net on resnet18 (synthetic 64x64 images), with `criteria=large_final` (so
   that scoring is one read of the weights, comparable across versions): milliseconds spent in the callback per batch without a prune event (its `after_batch` with the next event far ahead, timed alone with
   `timeit` after the fit: a short fit has too few such batches, and timing one costs more than the call), and per
   prune event, next to the copies the event cannot avoid:
   every parameter it replaces, its gradient (unless fastai had just zeroed it: the event then copies none, and
   neither does the floor) and its optimizer state, cut down to the kept channels. 'copies in
   it' is the time the event spent in those copies (`index_select`), 'copies alone' the same copies made again
   right after the event, on distinct tensors (the floor); 'event/alone' is the ratio of the event to the floor, and
   'event/in it' to its own copies. The two copy columns differ by the allocator: inside an event the new tensors
   land in fresh pages (the old ones are kept until the prune commits), alone they reuse freed ones; the first
   event also checks every group with one forward. The columns after those are the first event alone (ms, and
   its copies), then the median of the later events, the median of their copies made alone, and the ratio of
   the two: the cost of an event once the allocator has pages of the sizes it needs. The last two columns are the
   median time the later events spent scoring channels (reading every weight of the groups that change, which
   no event can skip either), and the later events over their copies alone plus their scoring.
3. Memory of a 4-epoch resnet18 fit, each run in its own process: the peak resident memory during the fit above
   the memory before it (sampled every 2 ms), without the callback, with one prune event (`one_shot`), with the
   prune events of one epoch (`lin` over the first 25%) and of four epochs (`lin` over all of it), with the default
   criteria (`taylor_abs`: gradient sums the size of the trainable parameters, held until the last event), and the
   4-epoch run again with `large_final` (no sums). The peak grows
   with the events because the allocator keeps freed blocks of the old sizes; so the last line trims the
   allocator (glibc's `malloc_trim`) after every event of the 4-epoch run and reports the memory in use after the
   first and the last: if nothing leaked, it falls as the model shrinks.

   With `--macs`, the events are measured again with filters and with a MACs target (`speed_up=2`), both ranked
   globally: a MACs target plans with each layer's MACs as a function of its channels.
4. Where the later events of part 2 spend their time (`large_final` too) (median ms per event, each phase without the ones inside
   it): scoring channels, the rest of planning, mapping the plan to the layers (`layer_ops`), pruning the layers
   (their parameters copied, and the bookkeeping around the copies), the optimizer's state (copied, and its
   bookkeeping), renumbering the groups, and the rest of the event (the callback's gradients and history, the
   pruner's checks); then the time all of them spent in `index_select` (the copies) and in Python's garbage
   collector (it runs whenever enough objects were allocated, wherever that happens), and the first event with its
   garbage collection.
5. Why the rest costs what it does (`large_final`, local): four functions of the later events that only compute and
   write nothing (`channel_scores`, `plan_prune`, `layer_ops`, `renumber_groups`), timed in the event and then
   called again at once with the same arguments. The event runs right after a training batch, which evicted the
   pruner's code and data from the CPU's caches; the second call finds them there. The ratio says how much of the
   Python around the copies is that, rather than work a faster implementation could drop.

    python benchmarks/callback.py [--epochs 5] [--repeats 3] [--long] [--macs] [--skip time,events,breakdown,warm,memory] [--models resnet18]
"""
import argparse, ctypes, gc, math, multiprocessing, statistics, threading, time, timeit, warnings
import torch, torch.nn as nn
from fastai.data.core import DataLoaders
from fastai.data.load import DataLoader
from fastai.learner import Learner
from fastai.callback.schedule import fit_one_cycle
from fastai.optimizer import Adam
from fastai.losses import CrossEntropyLossFlat
from sklearn.datasets import load_digits
import torchvision.models as tvm
import fasterprune.pruner, fasterprune.transaction, fasterprune.groups
from fasterprune.all import *
from fasterprune.all import slice_state

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
    setups = {'digits CNN': (digits_learner, args.epochs, args.repeats),
              'resnet18 32x32, 24 batches': (lambda: resnet18_learner(n=256, size=32, bs=32), 3, args.repeats),
              'resnet18 32x32, 48 batches': (lambda: resnet18_learner(n=512, size=32, bs=32), 3, args.repeats)}
    if args.long: setups['resnet18 32x32, 1000 batches'] = (lambda: resnet18_learner(n=2000, size=32, bs=16), 8, 1)
    for setup, (make, epochs, repeats) in setups.items():
        configs = {'no callback': lambda: [], 'callback, 0%': lambda: [PruneCallback(0, agp)],
                   'callback, agp to 50%': lambda: [PruneCallback(50, agp)],  # the default criteria, taylor_abs: gradients summed between events
                   '  the same, large_final': lambda: [PruneCallback(50, agp, criteria=large_final)],  # weights alone, no gradient sums
                   '  the same, recalibrate=0': lambda: [PruneCallback(50, agp, recalibrate=0)]}  # no BatchNorm statistics measured after each epoch
        runs, n = {k: [] for k in configs}, len(configs)
        for i in range(repeats):  # interleaved, in a rotating order: the first fit of a round tends to be slower
            for k in list(configs)[i % n:] + list(configs)[:i % n]: runs[k].append(timed_fit(make, epochs, configs[k]()))
        base = statistics.median(runs['no callback'])
        print(f"\n{setup:<30}{'seconds':>9}{'ratio':>7}")
        for k, v in runs.items(): print(f"{k:<30}{statistics.median(v):>9.2f}{statistics.median(v)/base:>7.2f}")

class Timer(PruneCallback):
    "PruneCallback that counts its batches and times each prune event, the tensor copies it cannot avoid and its scoring (a batch without an event: `quiet_ms`)"
    def before_fit(self): super().before_fit(); self.batches, self.events_t, self.copies_t, self.floor_t, self.scores_t = 0, [], [], [], []
    def after_batch(self):
        n, t = self._next, time.perf_counter()
        COPIES[0] = SCORES[0] = 0.
        super().after_batch()
        self.batches += 1
        if self._next == n: return
        self.events_t.append(time.perf_counter() - t); self.copies_t.append(COPIES[0]); self.scores_t.append(SCORES[0])
        self.floor_t.append(copy_floor(self._changes, self.opt, self._copied_grads))
    def prune(self, fraction):
        prune_to = self.pruner.prune_to
        def kept(*args, **kwargs): prune_to(*args, **kwargs); self._changes = self.pruner.param_changes  # the callback drops them
        self.pruner.prune_to = kept
        self._copied_grads = not getattr(self, '_zeroed', False)  # right after a step fastai zeroed them: the event copies none
        try: super().prune(fraction)
        finally: del self.pruner.prune_to

COPIES, SCORES = [0.], [0.]  # seconds spent since the last reset in index_select (the copies of parameters, gradients and optimizer state), and in scoring
def _timed(f, acc=COPIES):
    def g(*args, **kwargs):
        t = time.perf_counter(); res = f(*args, **kwargs); acc[0] += time.perf_counter() - t
        return res
    return g

def quiet_ms(cb, learn, n=100_000)->float:
    "Milliseconds of `cb.after_batch` on a batch without a prune event (the next one far ahead), the best of 5 runs of `n` calls"
    saved = cb.events, cb._next, cb.learn
    cb.events, cb._next, cb.learn = [(learn.train_iter + 10**9, 1.)], 0, learn
    try: return min(timeit.repeat(PruneCallback.after_batch.__get__(cb), number=n, repeat=5)) / n * 1000  # `PruneCallback`'s own, not `Timer`'s
    finally: cb.events, cb._next, cb.learn = saved

def copy_floor(changes, opt, grads=True):
    "Seconds to copy, with the kept indices, every tensor an event replaced (parameter, gradient if the event copied it, optimizer state), alone"
    state = opt.state  # a fastai Optimizer's per-parameter state
    work = []
    for old, (new, ops) in changes.items():
        n_state = sum(1 for v in state.get(new, {}).values() if isinstance(v, torch.Tensor) and v.shape == new.shape)
        work += ([(old.detach(), old, ops)] + ([(old.grad, old, ops)] if grads and old.grad is not None else [])
                 + [(old.detach().clone(), old, ops) for _ in range(n_state)])  # distinct tensors, as in the event
    t = time.perf_counter()
    for w, old, ops in work: slice_state(w, old, ops)
    return time.perf_counter() - t

MODELS = None  # `--models`: the names of `event_learners` to measure (default: all)

def event_learners()->dict:
    "The learners whose prune events parts 2 and 4 measure, by name"
    from fastai.vision.learner import unet_learner
    return {k: v for k, v in _event_learners(unet_learner).items() if MODELS is None or k in MODELS}

def _event_learners(unet_learner):
    return {'resnet18': resnet18_learner,
            'resnet50': lambda: Learner(image_dls(), tvm.resnet50(weights=None, num_classes=10), loss_func=CrossEntropyLossFlat()),
            'unet resnet18': lambda: unet_learner(image_dls(masks=True), tvm.resnet18, pretrained=False, n_out=3,
                                                  loss_func=CrossEntropyLossFlat(axis=1))}

TARGETS = {'50% filters': dict(pruning_ratio=50), '2x fewer MACs': dict(speed_up=2)}

def events_table(targets=('50% filters',), context='local'):
    "Per prune event: its cost, the index_select copies inside it, and the same copies made alone (the floor)"
    print(f"\n{'model':<14}{'target':<15}{'batches':>8}{'events':>7}{'ms/batch quiet':>16}{'ms/event':>10}{'copies in it':>13}"
          f"{'copies alone':>13}{'event/alone':>12}{'event/in it':>12}{'first event':>12}{'its copies':>11}"
          f"{'later events':>13}{'their alone':>12}{'later/alone':>12}{'their scoring':>14}{'later/(alone+scoring)':>22}   ({context})")
    learners = event_learners()
    isel, tisel, scores = torch.index_select, torch.Tensor.index_select, fasterprune.groups.channel_scores
    torch.index_select, torch.Tensor.index_select = _timed(isel), _timed(tisel)
    fasterprune.groups.channel_scores = _timed(scores, SCORES)
    try:
        for arch, make in learners.items():
            for target in targets:
                learn, cb = make(), Timer(schedule=agp, context=context, criteria=large_final, **TARGETS[target])  # scoring: L1 norms
                with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=cb)
                left = len(cb.pruner.skipped) + len(cb.pruner.excluded)
                ev, cp, fl = (1000 * statistics.mean(v) for v in (cb.events_t, cb.copies_t, cb.floor_t))
                later, later_fl, later_sc = (1000 * statistics.median(v[1:] or [math.nan]) for v in (cb.events_t, cb.floor_t, cb.scores_t))
                print(f"{arch:<14}{target:<15}{cb.batches:>8}{len(cb.events_t):>7}{quiet_ms(cb, learn):>16.4f}"
                      f"{ev:>10.1f}{cp:>13.1f}{fl:>13.1f}{ev/fl:>12.2f}{ev/cp:>12.2f}{1000*cb.events_t[0]:>12.1f}{1000*cb.copies_t[0]:>11.1f}"
                      f"{later:>13.1f}{later_fl:>12.1f}{later/later_fl:>12.2f}{later_sc:>14.1f}{later/(later_fl+later_sc):>22.2f}"
                      + (f"  ({left} groups left alone)" if left else ""))
    finally: torch.index_select, torch.Tensor.index_select, fasterprune.groups.channel_scores = isel, tisel, scores

PHASES = (('scoring', fasterprune.groups, 'channel_scores'), ('planning', fasterprune.pruner.Pruner, 'plan'),
          ('layer_ops', fasterprune.transaction, 'layer_ops'), ('layers', fasterprune.transaction, 'apply_plan'),
          ('optimizer', fasterprune.pruner, 'staged_update'), ('renumbering', fasterprune.pruner, 'renumber_groups'))

def breakdown_table(context='local'):
    "Median ms per later prune event in each phase, without the phases inside it, and in all the copies"
    spent, stack = {}, []
    def timed(name, f):
        def g(*args, **kwargs):
            stack.append(0.); t = time.perf_counter()
            try: return f(*args, **kwargs)
            finally:
                dt = time.perf_counter() - t; inner = stack.pop()
                spent[name] = spent.get(name, 0.) + dt - inner
                if stack: stack[-1] += dt
        return g
    saved = [(owner, attr, getattr(owner, attr)) for _, owner, attr in PHASES]
    isel, tisel = torch.index_select, torch.Tensor.index_select
    for name, owner, attr in PHASES: setattr(owner, attr, timed(name, getattr(owner, attr)))
    torch.index_select, torch.Tensor.index_select = _timed(isel), _timed(tisel)
    collecting = [0., 0.]  # seconds in Python's garbage collector during the event, and when the running collection started
    def on_gc(phase, info):
        if phase == 'start': collecting[1] = time.perf_counter()
        else: collecting[0] += time.perf_counter() - collecting[1]
    class Phases(PruneCallback):
        def before_fit(self): super().before_fit(); self.rows = []
        def prune(self, fraction):
            spent.clear(); COPIES[0] = collecting[0] = 0.; t = time.perf_counter()
            gc.callbacks.append(on_gc)
            try: super().prune(fraction)
            finally: gc.callbacks.remove(on_gc)
            self.rows.append(dict(spent, total=time.perf_counter() - t, copies=COPIES[0], gc=collecting[0]))
    names = [n for n, *_ in PHASES]
    print(f"\n{'model':<14}{'later event':>12}" + ''.join(f"{n:>12}" for n in names) + f"{'rest':>8}{'copies':>8}{'gc':>6}"
          f"{'first event':>12}{'its gc':>8}   ({context}, 50% filters)")
    learners = event_learners()
    try:
        for arch, make in learners.items():
            learn, cb = make(), Phases(50, agp, context=context, criteria=large_final)
            with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=cb)
            later = cb.rows[1:]
            med = {k: 1000 * statistics.median(r.get(k, 0.) for r in later) for k in names + ['total', 'copies', 'gc']}
            rest = 1000 * statistics.median(r['total'] - sum(r.get(k, 0.) for k in names) for r in later)
            print(f"{arch:<14}{med['total']:>12.1f}" + ''.join(f"{med[n]:>12.1f}" for n in names) + f"{rest:>8.1f}{med['copies']:>8.1f}"
                  f"{med['gc']:>6.1f}{1000 * cb.rows[0]['total']:>12.1f}{1000 * cb.rows[0]['gc']:>8.1f}")
    finally:
        for owner, attr, f in saved: setattr(owner, attr, f)
        torch.index_select, torch.Tensor.index_select = isel, tisel

WARM = (('channel_scores', fasterprune.groups, 'channel_scores'), ('plan_prune', fasterprune.pruner, 'plan_prune'),
        ('layer_ops', fasterprune.transaction, 'layer_ops'), ('renumber_groups', fasterprune.pruner, 'renumber_groups'))

def warm_table(context='local'):
    "Median ms per later prune event of four functions that only compute (scoring, planning, mapping the plan to the layers, renumbering the groups), in the event and called again at once with the same arguments"
    cur, saved = {}, [(owner, attr, getattr(owner, attr)) for _, owner, attr in WARM]
    def twice(name, f):
        def g(*args, **kwargs):
            t = time.perf_counter(); res = f(*args, **kwargs); t1 = time.perf_counter()
            f(*args, **kwargs); t2 = time.perf_counter()  # the same call again: its result is the first's (these phases write nothing)
            a = cur.setdefault(name, [0., 0.]); a[0] += t1 - t; a[1] += t2 - t1
            return res
        return g
    class Twice(PruneCallback):
        def before_fit(self): super().before_fit(); self.rows = []
        def prune(self, fraction): cur.clear(); super().prune(fraction); self.rows.append({k: tuple(v) for k, v in cur.items()})
    names = [n for n, *_ in WARM]
    print(f"\n{'model':<14}" + ''.join(f"{n + ': event':>24}{'again':>7}" for n in names) + f"{'all: event':>12}{'again':>7}{'ratio':>7}   ({context}, 50% filters)")
    for name, owner, attr in WARM: setattr(owner, attr, twice(name, getattr(owner, attr)))
    try:
        for arch, make in event_learners().items():
            learn, cb = make(), Twice(50, agp, context=context, criteria=large_final)
            with learn.no_bar(), learn.no_logging(): learn.fit(1, 1e-3, cbs=cb)
            later = cb.rows[1:]
            med = {n: [1000 * statistics.median(r.get(n, (0., 0.))[i] for r in later) for i in (0, 1)] for n in names}
            both = [1000 * statistics.median(sum(r.get(n, (0., 0.))[i] for n in names) for r in later) for i in (0, 1)]
            print(f"{arch:<14}" + ''.join(f"{med[n][0]:>24.2f}{med[n][1]:>7.2f}" for n in names) + f"{both[0]:>12.2f}{both[1]:>7.2f}{both[0] / both[1]:>7.2f}")
    finally:
        for owner, attr, f in saved: setattr(owner, attr, f)

def rss_mb():
    with open('/proc/self/status') as f: return next(int(l.split()[1]) for l in f if l.startswith('VmRSS')) / 1024

def peak_memory(schedule, queue, criteria=taylor_abs):
    "In a fresh process: fit resnet18 for 4 epochs with `schedule` (None: no callback) and `criteria`; report the peak RSS above the start"
    warnings.simplefilter('ignore')
    learn = resnet18_learner()
    cbs = [] if schedule is None else [PruneCallback(50, schedule, criteria=criteria)]
    start, peak, done = rss_mb(), [0.], threading.Event()
    def sample():
        while not done.is_set(): peak[0] = max(peak[0], rss_mb()); time.sleep(0.002)
    sampler = threading.Thread(target=sample); sampler.start()
    with learn.no_bar(), learn.no_logging(): learn.fit(4, 1e-3, cbs=cbs)
    done.set(); sampler.join()
    queue.put((peak[0] - start, len(cbs[0].history) - 1 if cbs else 0))

def memory_table():
    ctx = multiprocessing.get_context('spawn')
    print(f"\n{'resnet18 fit, 4 epochs':<30}{'events':>7}{'peak MB above start':>20}{'ratio':>7}")
    base = None
    for label, schedule, criteria in (('no callback', None, None), ('one_shot to 50%', one_shot, taylor_abs),
                                      ('lin to 50% in 1 epoch', Schedule(sched_lin, end_pct=0.25), taylor_abs), ('lin to 50% in 4 epochs', lin, taylor_abs),
                                      ('  the same, large_final', lin, large_final)):  # no gradient sums
        queue = ctx.Queue()
        proc = ctx.Process(target=peak_memory, args=(schedule, queue, criteria))
        proc.start(); rss, events = queue.get(); proc.join()
        base = base or rss
        print(f"{label:<30}{events:>7}{rss:>20.0f}{rss/base:>7.2f}")
    queue = ctx.Queue()
    proc = ctx.Process(target=memory_after_events, args=(queue,))
    proc.start(); first, last, events = queue.get(); proc.join()
    print(f"in use after event 1 and event {events} of the 4-epoch lin run, allocator trimmed: {first:.0f} MB, {last:.0f} MB")

def memory_after_events(queue):
    "In a fresh process: the resident memory after the first and the last prune event, freed blocks returned to the OS"
    warnings.simplefilter('ignore')
    libc, in_use = ctypes.CDLL('libc.so.6'), []
    class Measured(PruneCallback):
        def prune(self, fraction):
            super().prune(fraction)
            gc.collect(); libc.malloc_trim(0); in_use.append(rss_mb())
    learn = resnet18_learner()
    with learn.no_bar(), learn.no_logging(): learn.fit(4, 1e-3, cbs=Measured(50, lin))
    queue.put((in_use[0], in_use[-1], len(in_use)))

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--epochs', type=int, default=5, help='epochs of the digits fit')
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--long', action='store_true', help='add a 1000-batch resnet18 fit (about 3 minutes, run once)')
    ap.add_argument('--skip', default='', help='comma-separated parts to skip: time, events, breakdown, warm, memory')
    ap.add_argument('--macs', action='store_true', help='events: also a MACs target (speed_up=2), filters and MACs ranked globally')
    ap.add_argument('--models', default='', help="events and breakdown: comma-separated models among 'resnet18', 'resnet50', 'unet resnet18' (default: all)")
    args = ap.parse_args()
    if args.models: MODELS = args.models.split(',')
    skip = args.skip.split(',')
    warnings.simplefilter('ignore')
    if 'time' not in skip: time_table(args)
    if 'events' not in skip:
        events_table()
        if args.macs: events_table(tuple(TARGETS), context='global')
    if 'breakdown' not in skip:
        breakdown_table()
        if args.macs: breakdown_table('global')
    if 'warm' not in skip: warm_table()
    if 'memory' not in skip: memory_table()
