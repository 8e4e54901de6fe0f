"""Pruning, then int8 quantization: latency and size in onnxruntime, side by side in one run.

Each model (torchvision, no weights, batch of one 224x224 image) is pruned five ways: not at all, to 2x fewer MACs
(`speed_up=2`, local), the same with `round_to=8`, and to a latency target of 2x (`latency='2x'`, local, with its
`LatencyTable`) in onnxruntime (fp32) and in onnxruntime after int8 quantization (`runtime='onnxruntime-int8'`). Each is exported to ONNX and run in onnxruntime as it is (fp32) and quantized to
int8 (static, QDQ, per-channel weights, `quant_pre_process` first, activations calibrated on `--calib` random batches).
Every session is timed in rotating order over `--rounds` rounds (median of `--runs` forwards, a 50 ms pause between
sessions so that one session's spinning threads sleep before the next runs); "speed-up" is the median of each
round's ratio to the unpruned fp32 model timed in that round, "MB" the ONNX file's size, and "max |diff|" the
largest difference of the outputs from the PyTorch model's on one input, over the largest output (the error
quantization adds).

    python benchmarks/quantize.py [--models resnet18,mobilenet_v2,resnet50] [--rounds 5] [--runs 15] [--calib 8]
"""
import argparse, copy, os, statistics, tempfile, time, warnings
import numpy as np, torch, torchvision
from fasterprune.all import *
from fasterprune.hardware import ort_session

def int8_onnx(src:str, dst:str, name:str, batches:list):
    "Quantize the ONNX model at `src` to int8 at `dst`: static, QDQ, weights per channel, activations calibrated on `batches`"
    from onnxruntime.quantization import quantize_static, CalibrationDataReader, QuantFormat, QuantType
    from onnxruntime.quantization.shape_inference import quant_pre_process
    class Reader(CalibrationDataReader):
        def __init__(self): self.it = iter([{name: b} for b in batches])
        def get_next(self): return next(self.it, None)
    pre = dst + '.pre.onnx'
    quant_pre_process(src, pre)
    quantize_static(pre, dst, Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)

def pruned_models(base, x)->dict:
    "The unpruned model and its three pruned copies, by row name"
    models = {'unpruned': base}
    for row, kw in (('2x MACs', dict(speed_up=2)), ('2x MACs /8', dict(speed_up=2, round_to=8)),
                    ('latency 2x', dict(latency='2x', runtime='onnxruntime')),
                    ('latency 2x int8', dict(latency='2x', runtime='onnxruntime-int8'))):
        m = copy.deepcopy(base)
        Pruner(m, example_inputs=x, verbose=False, **kw).prune_model()
        models[row] = m.eval()
    return models

def main(args):
    print(f"{torch.get_num_threads()} threads, input 1x3x224x224, median of {args.runs} runs, median of {args.rounds} rounds, "
          f"int8 calibrated on {args.calib} random batches\n")
    print(f"{'model':<15}{'pruned':<17}{'params':>8}{'MACs':>7}{'fp32 ms':>9}{'speed-up':>10}{'MB':>7}"
          f"{'int8 ms':>9}{'speed-up':>10}{'MB':>7}{'max |diff|':>12}")
    d = tempfile.mkdtemp()
    for name in args.models.split(','):
        torch.manual_seed(0)
        base, x = getattr(torchvision.models, name)(weights=None).eval(), torch.randn(1, 3, 224, 224)
        batches = [torch.randn(1, 3, 224, 224).numpy() for _ in range(args.calib)]
        models, sessions, sizes, errs = pruned_models(base, x), {}, {}, {}
        for row, m in models.items():
            f = os.path.join(d, f"{name}-{row.replace(' ', '_').replace('/', '')}.onnx")
            with torch.no_grad(): torch.onnx.export(m, (x,), f, dynamo=False, input_names=['x'])
            int8_onnx(f, q := f.replace('.onnx', '.int8.onnx'), 'x', batches)
            with torch.no_grad(): ref = m(x).numpy()
            for kind, path in (('fp32', f), ('int8', q)):
                with open(path, 'rb') as fh: sessions[row, kind] = ort_session(fh.read())
                sizes[row, kind] = os.path.getsize(path) / 2**20
                errs[row, kind] = float(np.abs(sessions[row, kind].run(None, {'x': x.numpy()})[0] - ref).max() / np.abs(ref).max())
        feed, keys = {'x': x.numpy()}, list(sessions)
        times = {k: [] for k in keys}
        for r in range(args.rounds):
            for k in keys[r % len(keys):] + keys[:r % len(keys)]:
                s = sessions[k]
                for _ in range(3): s.run(None, feed)
                ts = []
                for _ in range(args.runs):
                    t = time.perf_counter(); s.run(None, feed); ts.append(time.perf_counter() - t)
                times[k].append(1000 * statistics.median(ts))
                time.sleep(0.05)  # its spinning threads asleep before the next session runs
        ref_t = times['unpruned', 'fp32']
        t0, p0, m0 = statistics.median(ref_t), count_params(base), count_macs(base, x)
        for row, m in models.items():
            cols = ''
            for kind in ('fp32', 'int8'):
                ratio = statistics.median(a / b for a, b in zip(times[row, kind], ref_t))
                cols += f"{t0 * ratio:>9.2f}{1 / ratio:>9.2f}x{sizes[row, kind]:>7.1f}"
            print(f"{name:<15}{row:<17}{count_params(m)/p0:>8.2f}{count_macs(m, x)/m0:>7.2f}{cols}{errs[row, 'int8']:>12.3f}", flush=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--models', default='resnet18,mobilenet_v2,resnet50')
    ap.add_argument('--rounds', type=int, default=5)
    ap.add_argument('--runs', type=int, default=15)
    ap.add_argument('--calib', type=int, default=8, help='random batches the int8 activations are calibrated on')
    args = ap.parse_args()
    warnings.simplefilter('ignore')
    main(args)
