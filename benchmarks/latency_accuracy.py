"""Accuracy at equal measured latency: a latency target against MACs targets, on the accuracy benchmark's digits32 task (or `--task digits96`).

For each seed, torchvision's resnet18 on digits upscaled to 32x32 (`benchmarks/tasks.py`) is trained for the task's 6
epochs with `PruneCallback`, pruning along AGP from 10% to 60% of training as every gradual row of `accuracy.py` does,
and the deployment batch is one 1x32x32 image (1x96x96 for digits96) in `--runtime`. Rows:

- `latency 2x local`, `latency 2x global`: `PruneCallback(latency='2x', example_inputs=<one image>, runtime=...)`;
  a global ranking compares importance, as a MACs target's does.
- `latency 2x global, per ms`: the same with `Pruner.latency_per_ms = True`, ranked by importance lost per millisecond
  saved.
- `MACs 2x local`, `MACs 2x global`: `speed_up=2`, the same nominal speed-up.
- `MACs Sx local`, `MACs Sx global`: `speed_up=S`, S found once (seed 0) so that a one-shot prune of the untrained model
  measures 2x in the runtime: a MACs target at the latency the latency target asks for.

At the end every seed's models are timed together with an unpruned one (`compare_latency`, alternating rounds), and
the table gives accuracy (mean ± std over seeds, %), the measured speed-up and MACs ratio.

`--task digits96` runs the same rows on mobilenet_v2 with the images at 96x96 (`benchmarks/tasks.py`), where a
depthwise model's latency does not follow its MACs; `--no-per-ms` skips the row ranked per millisecond.

    python benchmarks/latency_accuracy.py [--seeds 3] [--runtime torch] [--task digits32] [--no-per-ms] [--results /tmp/lat_acc.json]
        [--speed-up 2] [--lr LR] [--no-nominal] [--macs 5] [--resume] [--threads N] [--widths]

`--speed-up F` asks the latency target for F times faster (and the MACs rows for F, and for the S that measures F);
`--lr` trains every fit at another learning rate than the task's; `--no-nominal` skips the `MACs Fx` rows; `--macs 5`
adds MACs rows at 5x, local and global; `--resume` trains only the rows each seed lacks in `--results`.

`--widths` instead prunes the untrained model (seed 0) once to `latency='2x'` and a copy to a MACs target of the same MACs,
local and global, and prints every conv's width in both: at equal MACs, and so about equal latency, the two targets
differ only where the latency target rounds widths to its table's steps (none on digits32, three early groups of
mobilenet_v2 on digits96; `results/latency_widths.txt`).

`benchmarks/results/latency_accuracy_digits96_1.5x.json` holds `--task digits96 --speed-up 1.5 --lr 1e-2 --no-per-ms
--no-nominal --macs 5 --seeds 8` (mobilenet_v2 learns at 1e-2: 53.6% unpruned against 31% at the task's 3e-3).
`benchmarks/results/latency_accuracy_digits32.json` holds a run with `--seeds 5`; `latency_targets_2x.txt` the
table of `latency.py --targets 2 --rounds 5` quoted on the Pruner page.
"""
import argparse, json, os, statistics, sys, time, warnings
from pathlib import Path
import torch
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tasks import ALL_TASKS as TASKS, task_learner, example_input
from accuracy import paired, verdict
from fasterprune.all import PruneCallback, Pruner, count_macs, count_params, sched_agp, warmup_prune_finetune, large_final
from fasterprune.counting import model_copy
from fasterprune.hardware import LatencyTable, compare_latency

GRADUAL = warmup_prune_finetune(sched_agp, warmup=0.1, finetune=0.4)
TASK = 'digits32'

class per_ms:
    "Within the context, a global latency target ranks channels by importance lost per millisecond saved"
    def __enter__(self): Pruner.latency_per_ms = True
    def __exit__(self, *args): Pruner.latency_per_ms = False

def fit(learn, cb):
    with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(TASKS[TASK]['epochs'], TASKS[TASK]['lr'], cbs=[cb])

def accuracy(learn)->float:
    with learn.no_bar(), learn.no_logging(): return float(learn.validate()[1])

def equal_latency_speed_up(runtime:str, x, goal:float=2., iters:int=8)->float:
    "The MACs speed-up at which a one-shot prune of the untrained model (seed 0) measures `goal` times faster"
    lo, hi = goal, 4 * goal
    for _ in range(iters):
        mid = (lo + hi) / 2
        learn = task_learner(TASK, 0)
        base, m = learn.model.eval(), model_copy(learn.model).eval()
        Pruner(m, speed_up=mid, example_inputs=x, verbose=False).prune_model()
        pruned, ref = compare_latency([m, base], x, runtime, rounds=5)
        if ref / pruned < goal: lo = mid
        else: hi = mid
    return round(hi, 2)

def same_widths(runtime:str, x):
    """Where a latency target and a MACs target at equal latency differ: the untrained model (seed 0) pruned one-shot to
    `latency='2x'`, then a copy pruned to a MACs target of the same MACs, local and global; every conv's width in each"""
    for ctx in ('local', 'global'):
        base = task_learner(TASK, 0).model.eval()
        a, b = model_copy(base).eval(), model_copy(base).eval()
        Pruner(a, latency='2x', runtime=runtime, example_inputs=x, context=ctx, verbose=False).prune_model()
        S = count_macs(base, x) / count_macs(a, x)
        Pruner(b, speed_up=S, example_inputs=x, context=ctx, verbose=False).prune_model()
        convs = [(n, m.out_channels, mb.out_channels) for (n, m), mb in zip(a.named_modules(), b.modules()) if isinstance(m, torch.nn.Conv2d)]
        diff = [abs(wa - wb) / wb for _, wa, wb in convs]
        apart = f", the others {100 * min(d for d in diff if d):.1f}% to {100 * max(diff):.1f}% apart" if any(diff) else ""
        print(f"{ctx}: latency='2x' -> {S:.2f}x fewer MACs; speed_up={S:.2f} gives widths {sum(wa == wb for _, wa, wb in convs)} of {len(convs)} convs "
              f"equal{apart}", flush=True)
        for n, wa, wb in convs: print(f"    {n:<28}{wa:>6}{wb:>6}")

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seeds', type=int, default=3)
    ap.add_argument('--runtime', default='torch')
    ap.add_argument('--results', default='/tmp/lat_acc.json')
    ap.add_argument('--task', default=TASK, choices=['digits32', 'digits96'])
    ap.add_argument('--no-per-ms', action='store_true', help="skip the row ranked by importance per millisecond")
    ap.add_argument('--speed-up', type=float, default=2., help="the latency target's speed-up (rows `latency Fx ...`)")
    ap.add_argument('--lr', type=float, default=None, help="the fits' learning rate (default: the task's)")
    ap.add_argument('--no-nominal', action='store_true', help="skip the MACs rows at the nominal speed-up (`MACs Fx ...`)")
    ap.add_argument('--macs', default='', help="more MACs rows, local and global, at these speed-ups (e.g. 5,6)")
    ap.add_argument('--resume', action='store_true', help="train only the rows a seed lacks in --results (and the unpruned model, to time them against)")
    ap.add_argument('--threads', type=int, default=None, help="PyTorch's threads (default: its own, the cores)")
    ap.add_argument('--widths', action='store_true', help="only compare the widths of a latency target and of a MACs target of the same MACs (`same_widths`)")
    args = ap.parse_args()
    TASK = args.task
    warnings.simplefilter('ignore')
    if args.threads: torch.set_num_threads(args.threads)
    F = args.speed_up
    if args.lr: TASKS[TASK]['lr'] = args.lr
    x = example_input(TASK)
    if args.widths: same_widths(args.runtime, x); raise SystemExit
    path = Path(args.results)
    res = json.loads(path.read_text()) if path.exists() else {'runs': [], 'S': None}
    if res['S'] is None:
        res['S'] = equal_latency_speed_up(args.runtime, x, F)
        path.write_text(json.dumps(res))
    S = res['S']
    print(f"{torch.get_num_threads()} threads, {args.runtime}, {TASK}, batch {'x'.join(map(str, x.shape))}, lr {TASKS[TASK]['lr']}; "
          f"MACs speed-up measuring {F:g}x: {S}", flush=True)
    L = f"{F:g}x"
    rows = {f'latency {L} local': dict(latency=L, context='local'), f'latency {L} global': dict(latency=L, context='global'),
            f'latency {L} global, per ms': dict(latency=L, context='global'),
            f'MACs {L} local': dict(speed_up=F, context='local'), f'MACs {L} global': dict(speed_up=F, context='global'),
            f'MACs {S}x local': dict(speed_up=S, context='local'), f'MACs {S}x global': dict(speed_up=S, context='global')}
    if args.no_per_ms: del rows[f'latency {L} global, per ms']
    if args.no_nominal: del rows[f'MACs {L} local'], rows[f'MACs {L} global']
    for f in [float(v) for v in args.macs.split(',') if v]: rows |= {f'MACs {f:g}x local': dict(speed_up=f, context='local'), f'MACs {f:g}x global': dict(speed_up=f, context='global')}
    for seed in range(args.seeds):
        done = {r['row'] for r in res['runs'] if r['seed'] == seed} if args.resume else set()
        if set(rows) <= done: continue  # nothing left to train for this seed
        models = {}
        learn = task_learner(TASK, seed)
        with learn.no_bar(), learn.no_logging(): learn.fit_one_cycle(TASKS[TASK]['epochs'], TASKS[TASK]['lr'])
        models['unpruned'] = (learn.model.eval(), accuracy(learn), 0.)
        for name, kw in rows.items():
            if name in done: continue
            learn = task_learner(TASK, seed)
            if 'latency' in kw: kw = dict(kw, runtime=args.runtime)
            cb = PruneCallback(schedule=GRADUAL, example_inputs=x, criteria=large_final, **kw)  # the default criteria when the shipped results ran
            start = time.perf_counter()
            if 'per ms' in name:
                with per_ms(): fit(learn, cb)
            else: fit(learn, cb)
            models[name] = (learn.model.eval(), accuracy(learn), time.perf_counter() - start)
            print(f"seed {seed} {name}: {models[name][1]:.3f} in {models[name][2]:.0f} s", flush=True)
        names = list(models)
        ms = compare_latency([m for m, _, _ in models.values()], x, args.runtime, rounds=5, n_runs=20)
        m0 = count_macs(models['unpruned'][0], x)
        for (name, (m, acc, secs)), t in zip(models.items(), ms):
            if name in done: continue  # (resumed: the unpruned model trained again only to time the new rows against)
            res['runs'].append(dict(seed=seed, row=name, accuracy=acc, speed_up=ms[0] / t, macs=count_macs(m, x) / m0, params=count_params(m), seconds=secs))
        path.write_text(json.dumps(res))
    print(f"\n{'row':<38}{'accuracy %':>14}{'speed-up':>10}{'MACs':>7}")
    for name in ['unpruned'] + list(rows):
        rs = [r for r in res['runs'] if r['row'] == name]
        if not rs: continue
        accs = [100 * r['accuracy'] for r in rs]
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.
        print(f"{name:<38}{statistics.mean(accs):>8.1f} ± {sd:<4.1f}{statistics.mean(r['speed_up'] for r in rs):>9.2f}x"
              f"{statistics.mean(r['macs'] for r in rs):>7.2f}")
    runs = [dict(r, method=r['row'], target=1) for r in res['runs']]  # as `accuracy.paired` reads rows
    speed = {(r['row'], r['seed']): r['speed_up'] for r in res['runs']}
    names = list(dict.fromkeys(r['row'] for r in runs))
    print("\nPaired by seed, each latency row minus each MACs row of its context: mean ± half-width of the 95% interval "
          "(`accuracy.paired`), and the mean ratio of their speed-ups")
    for a in [n for n in names if n.startswith('latency')]:
        for b in [n for n in names if n.startswith('MACs') and n.split()[-1] == a.split()[2].rstrip(',')]:
            mean, half, n = diff = paired(runs, a, b, 1)
            seeds = [s for (r, s) in speed if r == a and (b, s) in speed]
            if n < 2: continue
            print(f"{a} minus {b}: {mean:+.1f} ± {half:.1f} points (n={n}, {verdict(diff)}), speed-up x"
                  f"{statistics.mean(speed[a, s] / speed[b, s] for s in seeds):.2f}")
