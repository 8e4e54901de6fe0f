"""How onnxruntime sessions are timed against each other: the measured speed-up of a pruned mobilenet_v2 over the unpruned
one, compared six times (seven rounds each), with the sessions' threads spinning and no pause between models, spinning
with `compare_latency`'s 50 ms pause (what fasterprune does), and not spinning. The spread of the six is what a
latency target's trials can trust; spinning off is steady but pays for waking its threads on every run.

With `--trial-noise`, instead: the timing a latency target's trial takes (`LatencyTarget.time`: the pruned model and
the unpruned one in 7 alternating rounds, the median of the rounds' ratios), repeated `--repeats` times on one model
pruned to `speed_up=4` with `round_to=8`, in PyTorch and in onnxruntime: how far one timing can be from the next.

With `--first-round`: each round's speed-up in `--repeats` comparisons of 7 rounds in onnxruntime, with
`compare_latency`'s pause after the warm-up runs and without it (the rounds' own pauses kept in both): how far the
first round, whose first model runs right after the warm-ups, reads from the median of the other six.

With `--states`: `--repeats` times in a row, a fixed NumPy workload (200 products of a 300x300 float32 matrix; its
milliseconds tell the machine's state) and then the pruned model against the unpruned one (`compare_latency`, 5
rounds) in onnxruntime and in PyTorch, with two threads and with one: on a machine whose second core comes and goes,
do the speed-ups move with it?

    python benchmarks/timing.py [--model mobilenet_v2] [--ratio 60] [--repeats 6] [--trial-noise | --first-round | --states]
"""
import argparse, copy, statistics, time, warnings
import torch, torchvision
import fasterprune.hardware as hw
from fasterprune.all import Pruner

def comparisons(pruned, base, x, spinning:bool, pause:bool, repeats:int)->list:
    "`(pruned ms, unpruned ms)` of `repeats` calls of `compare_latency` with the sessions set up so"
    session, sleep = hw.ort_session, time.sleep
    hw.ort_session = lambda b, spinning_=True: session(b, spinning=spinning and spinning_)
    if not pause: hw.time.sleep = lambda s: None
    try: return [hw.compare_latency([pruned, base], x, 'onnxruntime', rounds=7) for _ in range(repeats)]
    finally: hw.ort_session, hw.time.sleep = session, sleep

def first_rounds(pruned, base, x, pause_after_warmup:bool, repeats:int)->list:
    "Each round's speed-up of `pruned` over `base`, in `repeats` calls of `compare_latency` (7 rounds, onnxruntime), with or without its pause after the warm-up runs"
    sleep, res = hw.time.sleep, []
    for _ in range(repeats):
        pauses = [0]
        def pause(s):  # the first pause of a call is the one after the warm-ups
            pauses[0] += 1
            if pause_after_warmup or pauses[0] > 1: sleep(s)
        hw.time.sleep = pause
        try: ts, refs = hw.compare_latency([pruned, base], x, 'onnxruntime', rounds=7, per_round=True)
        finally: hw.time.sleep = sleep
        res.append([r / t for t, r in zip(ts, refs)])
    return res

def workload_ms(a)->float:
    "Milliseconds of 200 products of the matrix `a` with itself: a fixed workload"
    start = time.perf_counter()
    for _ in range(200): a @ a
    return 1e3 * (time.perf_counter() - start)

def states(pruned, base, x, repeats:int):
    "Print, `repeats` times, the workload's milliseconds and the speed-up of `pruned` in each runtime with 2 threads and with 1"
    import numpy as np
    a, threads, start = np.random.default_rng(0).random((300, 300), dtype=np.float32), torch.get_num_threads(), time.time()
    print(f"{'s':>5}{'workload ms':>12}" + ''.join(f"{f'{rt}, {n} thread' + 's' * (n > 1):>28}" for n in (2, 1) for rt in ('onnxruntime', 'torch')))
    try:
        for _ in range(repeats):
            row = f"{time.time() - start:>5.0f}{workload_ms(a):>12.0f}"
            for n in (2, 1):
                torch.set_num_threads(n)  # onnxruntime's sessions take as many
                for rt in ('onnxruntime', 'torch'):
                    p, r = hw.compare_latency([pruned, base], x, rt, rounds=5)
                    row += f"{p:>9.2f} /{r:>6.2f} ms = {r / p:.2f}x"
            print(row, flush=True)
    finally: torch.set_num_threads(threads)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--model', default='mobilenet_v2')
    ap.add_argument('--ratio', type=float, default=60)
    ap.add_argument('--repeats', type=int, default=6)
    ap.add_argument('--trial-noise', action='store_true', help="the spread of a latency target's trial timings instead")
    ap.add_argument('--first-round', action='store_true', help="how far the first round reads, with and without the pause after the warm-ups")
    ap.add_argument('--states', action='store_true', help="speed-ups with two threads and with one, next to the timing of a fixed workload")
    args = ap.parse_args()
    warnings.simplefilter('ignore')
    torch.manual_seed(0)
    base, x = getattr(torchvision.models, args.model)().eval(), torch.randn(1, 3, 224, 224)
    pruned = copy.deepcopy(base)
    if args.trial_noise:
        Pruner(pruned, speed_up=4, round_to=8, example_inputs=x, verbose=False).prune_model()
        print(f"{args.model} at speed_up=4, round_to=8, {torch.get_num_threads()} threads, {args.repeats} timings of 7 rounds\n")
        for rt in ('torch', 'onnxruntime'):
            ups = []
            for _ in range(args.repeats):
                ts, refs = hw.compare_latency([pruned, base], x, rt, rounds=7, per_round=True)
                ups.append(statistics.median(r / t for t, r in zip(ts, refs)))  # as `LatencyTarget.time` takes it
            m = statistics.mean(ups)
            print(f"{rt:<13}speed-ups {min(ups):.2f}x to {max(ups):.2f}x, standard deviation {100 * statistics.stdev(ups) / m:.1f}% of their mean", flush=True)
        raise SystemExit
    Pruner(pruned, args.ratio, example_inputs=x, verbose=False).prune_model()
    if args.states:
        print(f"{args.model} pruned {args.ratio:g}% local, comparisons of 5 rounds: pruned / unpruned ms = speed-up\n")
        states(pruned, base, x, args.repeats); raise SystemExit
    if args.first_round:
        print(f"{args.model} pruned {args.ratio:g}% local, onnxruntime, {torch.get_num_threads()} threads, {args.repeats} comparisons of 7 rounds\n")
        print(f"{'after the warm-ups':<22}{'first round / median of the others':>36}{'worst':>8}{'speed-ups (median of 7)':>32}")
        for name, pause in (('no pause', False), ('50 ms pause', True), ('no pause', False), ('50 ms pause', True)):  # twice, alternately
            r = first_rounds(pruned, base, x, pause, args.repeats)
            off = [100 * (ups[0] / statistics.median(ups[1:]) - 1) for ups in r]
            meds = sorted(statistics.median(ups) for ups in r)
            print(f"{name:<22}{statistics.mean(off):>+35.1f}%{min(off):>+7.1f}%{meds[0]:>20.2f}x to {meds[-1]:.2f}x", flush=True)
        raise SystemExit
    print(f"{args.model} pruned {args.ratio:g}% local, onnxruntime, {torch.get_num_threads()} threads, {args.repeats} comparisons of 7 rounds\n")
    print(f"{'sessions':<30}{'pruned ms':>11}{'unpruned ms':>13}{'speed-ups':>40}")
    for name, spin, pause in (('spinning, no pause', True, False), ('spinning, 50 ms pause', True, True), ('not spinning', False, False)):
        r = comparisons(pruned, base, x, spin, pause, args.repeats)
        ups = sorted(b / a for a, b in r)
        print(f"{name:<30}{min(a for a, _ in r):>5.2f}-{max(a for a, _ in r):<5.2f}{min(b for _, b in r):>7.2f}-{max(b for _, b in r):<5.2f}"
              f"{ups[0]:>12.2f}x to {ups[-1]:.2f}x (spread {100 * (ups[-1] / ups[0] - 1):.0f}%)", flush=True)
