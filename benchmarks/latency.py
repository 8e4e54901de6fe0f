"""Latency of pruned torchvision, timm and Hugging Face models against the unpruned ones, in PyTorch and in onnxruntime, in one run.

Each model is pruned (a deep copy per configuration) and every configuration is timed with `fasterprune.latency`
(eval mode, no gradients, warm-up, median of `--runs` forwards), in rotating order over `--rounds` rounds; the
table gives the median over rounds as a ratio to the unpruned model timed in the same rounds.

    python benchmarks/latency.py [--models resnet18,resnet50,mobilenet_v2,densenet121] [--size 224] [--bs 1] [--onnx]
    python benchmarks/latency.py --models timm:vit_small_patch16_224,timm:swin_tiny_patch4_window7_224 --configs 50:local
    python benchmarks/latency.py --models hf:gpt2,hf:bert,hf:vit,hf:llama,hf:neox --configs 30:local,50:local [--seq 128]
    python benchmarks/latency.py --models fastai:awd_lstm,fastai:awd_lstm_lm --configs 50:local,50:global --seq 72

A name `timm:<model>` is built with `timm.create_model(<model>, num_classes=1000)` (no weights), `hf:<family>` from the default config
of a Hugging Face model (no weights, nothing downloaded: `hf:gpt2` GPT-2 small, `hf:bert` BERT-base with a 2-class
head, `hf:vit` ViT-B/16, `hf:llama` a 12-layer LLaMA of width 768 with 12 query and 4 key-value heads, `hf:neox` GPT-NeoX
at Pythia-160M's sizes) on one
sequence of `--seq` random tokens per batch row (or one image), `fastai:awd_lstm` fastai's AWD-LSTM text classifier and
`fastai:awd_lstm_lm` its language model (fastai's default configs: a 400-wide embedding, three LSTMs of 1152, 1152 and
400 units; a vocabulary of 10,000) on `--seq` random tokens, any other from `torchvision.models` (a detector on a list
of `--bs` images, MACs and latency in evaluation mode: the detections; a segmentation model on a batch).

    python benchmarks/latency.py --models fasterrcnn_mobilenet_v3_large_320_fpn,ssdlite320_mobilenet_v3_large,retinanet_resnet50_fpn_v2 --configs 30:local,50:local --size 320
    python benchmarks/latency.py --models yolo:yolov8n,yolo:yolo11n,yolo:yolov8s --configs 30:local,50:local --size 640 --onnx

`yolo:<name>` is Ultralytics' model built from its `<name>.yaml` (no weights), timed on its raw forward (no
non-maximum suppression). Hugging Face
models prune locally only (their config holds one size per field) and are not exported to ONNX here.

"/8" in the table marks `round_to=8`: every group keeps a multiple of 8 channels.

Latency targets (`--targets`): each model is pruned to each speed-up in each runtime four ways, to a latency target
(`latency='2x'`, local and global, with its `LatencyTable`) and to a MACs target at the same nominal speed-up
(`speed_up=2`, local and global, with and without `round_to=8`), and every pruned model is timed in the runtime, in
rotating order over the rounds (in onnxruntime with a 50 ms pause between models, so that one session's spinning
threads are asleep before the next runs), against the unpruned model timed in the same rounds: "ms" is the unpruned
model's median times the median of the rounds' ratios. "asked" is the unpruned latency divided by the speed-up;
"off" is how far the measured latency is from it; "pruner off" how far the pruner's own timing after the prune was
(`pruner.latency.measured` against `pruner.latency.asked`, the pruned model and its unpruned copy in 7 rounds), and
"trials" how many trial prunes it timed. The table's build time is
printed once per model and runtime (it is read from its cache file after that):

    python benchmarks/latency.py --targets 2,3 --models resnet18,resnet50,mobilenet_v2,mobilenet_v3_large,efficientnet_b0 --runtimes torch,onnxruntime

`--threads N` runs PyTorch, and so onnxruntime's sessions, with N threads (default: PyTorch's, the cores): with one,
the timings hold steady on a machine whose second core comes and goes (`benchmarks/timing.py --states`);
`benchmarks/results/latency_targets_2x_1thread.txt` holds a run of the targets so.

`--device cuda` (with `--targets` and `--runtimes torch`) prunes and times the models on the GPU: the CUDA row, for a
machine that has one (a batch the GPU is deployed with, say `--bs 32`; batch 1 mostly times the kernels' launches):

    python benchmarks/latency.py --targets 2 --models resnet18,resnet50,mobilenet_v2 --runtimes torch --device cuda --bs 32 --rounds 5
"""
import argparse, copy, statistics, tempfile, time, warnings
from pathlib import Path
import torch, torchvision
from fasterprune.all import *
from fasterprune.counting import model_copy

HF = {  # family: (config class, model class, config overrides)
    'gpt2': ('GPT2Config', 'GPT2LMHeadModel', {}), 'bert': ('BertConfig', 'BertForSequenceClassification', {}),
    'vit': ('ViTConfig', 'ViTForImageClassification', {}),
    'llama': ('LlamaConfig', 'LlamaForCausalLM', dict(hidden_size=768, intermediate_size=2048, num_hidden_layers=12, num_attention_heads=12,
                                                      num_key_value_heads=4, head_dim=64, vocab_size=32000)),
    'neox': ('GPTNeoXConfig', 'GPTNeoXForCausalLM', dict(hidden_size=768, intermediate_size=3072, num_hidden_layers=12, num_attention_heads=12,
                                                         vocab_size=50304))}

def build(name:str, bs:int=1, size:int=224, seq:int=128)->tuple:
    "`(model, inputs)`: a model without weights (`timm:<name>` from timm, `hf:<family>` from a Hugging Face config, else torchvision's `<name>`) and a batch for it"
    images = torch.randn(bs, 3, size, size)
    if name.startswith('hf:'):
        import transformers
        cfg, cls, kw = HF[name[3:]]
        model = getattr(transformers, cls)(getattr(transformers, cfg)(**kw))
        if name == 'hf:vit': return model, {'pixel_values': images}
        return model, {'input_ids': torch.randint(0, model.config.vocab_size, (bs, seq))}
    if name.startswith('fastai:'):
        from fastai.text.all import AWD_LSTM, get_text_classifier, get_language_model, awd_lstm_clas_config, awd_lstm_lm_config
        model = (get_language_model(AWD_LSTM, 10000, config=awd_lstm_lm_config) if name == 'fastai:awd_lstm_lm' else
                 get_text_classifier(AWD_LSTM, 10000, 2, config=awd_lstm_clas_config))
        return model, torch.randint(2, 10000, (bs, seq))
    if name.startswith('yolo:'):  # Ultralytics' YOLO from the YAML it ships (no weights): `yolo:yolov8n`
        from ultralytics import YOLO
        return YOLO(f"{name[5:]}.yaml").model, images
    tv = torchvision.models
    if name in tv.list_models(module=tv.detection):  # a detector takes a list of images (of `size`; it resizes them to its own)
        return tv.get_model(name, weights=None, weights_backbone=None), ([torch.rand(3, size, size) for _ in range(bs)],)
    if name in tv.list_models(module=tv.segmentation): return tv.get_model(name, weights=None, weights_backbone=None), images
    if name.startswith('timm:'):
        import timm
        return timm.create_model(name[5:], pretrained=False, num_classes=1000), images  # a head even where the default has none (EVA02's MIM weights)
    return getattr(torchvision.models, name)(weights=None), images

def onnx_session(model, x):
    "An onnxruntime session running `model` exported with the default exporter, and its input name"
    import onnxruntime as ort
    path = Path(tempfile.mkdtemp())/'model.onnx'
    torch.onnx.export(model.eval(), (x,), path, dynamo=True, verbose=False)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = torch.get_num_threads()
    session = ort.InferenceSession(str(path), opts)
    return session, session.get_inputs()[0].name

def ort_latency(session_name, x, n_runs, n_warmup=3):
    session, name = session_name
    feed = {name: x.numpy()}
    for _ in range(n_warmup): session.run(None, feed)
    times = []
    for _ in range(n_runs):
        start = time.perf_counter(); session.run(None, feed); times.append(time.perf_counter() - start)
    return statistics.median(times)

def targets_main(args):
    "Latency targets against MACs targets at the same nominal speed-up, measured in each runtime"
    from fasterprune.hardware import LatencyTable, forward_fn, median_ms, device_name
    if args.device != 'cpu' and args.runtimes != 'torch': raise SystemExit("--device cuda times in PyTorch only: add --runtimes torch")
    print(f"{device_name(torch.zeros(1, device=args.device))}, input {args.bs}x3x{args.size}x{args.size}, median of {args.runs} runs, median of {args.rounds} rounds\n")
    print(f"{'model':<20}{'runtime':<13}{'target':<22}{'params':>8}{'MACs':>7}{'ms':>8}{'asked':>8}{'off':>8}{'speed-up':>10}{'prune s':>9}{'pruner off':>11}{'trials':>7}")
    for name in args.models.split(','):
        for rt in args.runtimes.split(','):
            torch.manual_seed(0)
            base, x = build(name, args.bs, args.size, args.seq)
            base, x = base.eval().to(args.device), (x.to(args.device) if isinstance(x, torch.Tensor) else x)
            start = time.perf_counter()
            table = LatencyTable.build(base, x, rt, verbose=False)
            print(f"{name:<20}{rt:<13}latency table: {len(table.layers)} layers, {len(table.shapes)} shapes, timed in {table.build_s:.0f} s "
                  f"(read in {time.perf_counter() - start:.1f} s)", flush=True)
            models, secs, checks = {'-': base}, {}, {}
            for f in map(float, args.targets.split(',')):
                for kind, ctx, rto in (('latency', 'local', None), ('latency', 'global', None), ('macs', 'local', None),
                                       ('macs', 'local', 8), ('macs', 'global', None), ('macs', 'global', 8)):
                    m = model_copy(base)
                    kw = dict(latency=f"{f:g}x", runtime=rt, latency_table=table) if kind == 'latency' else dict(speed_up=f, round_to=rto)
                    start = time.perf_counter()
                    try: (pruner := Pruner(m, context=ctx, example_inputs=x, verbose=False, **kw)).prune_model()
                    except ValueError as e: print(f"{name:<20}{rt:<13}{kind} {f:g}x {ctx}: {str(e)[:100]}"); continue
                    key = (f, f"{'latency' if kind == 'latency' else 'MACs'} {f:g}x {ctx}" + (f" /{rto}" if rto else ""))
                    models[key], secs[key] = m.eval(), time.perf_counter() - start
                    if kind == 'latency': checks[key] = pruner.latency
            fns = {k: forward_fn(m, x, rt) for k, m in models.items()}
            times, keys = {k: [] for k in models}, list(models)
            for i in range(args.rounds):
                for k in keys[i % len(keys):] + keys[:i % len(keys)]:
                    times[k].append(median_ms(fns[k], args.runs, 3))
                    if rt == 'onnxruntime': time.sleep(0.05)  # its spinning threads asleep before the next session runs
            p0, m0, t0 = count_params(base), count_macs(base, x), statistics.median(times['-'])
            for k in keys[1:]:  # each round's ratio to the unpruned model timed in that round, their median
                t, asked = t0 * statistics.median(a / b for a, b in zip(times[k], times['-'])), t0 / k[0]
                print(f"{name:<20}{rt:<13}{k[1]:<22}{count_params(models[k])/p0:>8.2f}{count_macs(models[k], x)/m0:>7.2f}{t:>8.2f}{asked:>8.2f}"
                      f"{100 * (t / asked - 1):>+7.1f}%{t0 / t:>9.2f}x{secs[k]:>9.1f}"
                      + (f"{100 * (l.measured / l.asked - 1):>+9.1f}%{len(l.trials):>7}" if (l := checks.get(k)) is not None else ""), flush=True)

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--models', default='resnet18,resnet50,mobilenet_v2,densenet121')
    ap.add_argument('--configs', default='30:local,30:local:8,50:local,50:global,50:global:8',
                    help='ratio:context[:round_to] of each pruned model')
    ap.add_argument('--size', type=int, default=224)
    ap.add_argument('--bs', type=int, default=1)
    ap.add_argument('--seq', type=int, default=128, help='tokens per sequence for text models')
    ap.add_argument('--runs', type=int, default=10)
    ap.add_argument('--rounds', type=int, default=3)
    ap.add_argument('--onnx', action='store_true', help='also time the exported models in onnxruntime')
    ap.add_argument('--targets', default='', help='speed-ups for latency targets against MACs targets, e.g. 2,3')
    ap.add_argument('--runtimes', default='torch,onnxruntime', help='with --targets: where latency is measured')
    ap.add_argument('--threads', type=int, default=None, help="threads of PyTorch and of onnxruntime's sessions (default: PyTorch's)")
    ap.add_argument('--device', default='cpu', help="with --targets: where the models run ('cuda' for the GPU, with --runtimes torch)")
    args = ap.parse_args()
    warnings.simplefilter('ignore')
    if args.threads: torch.set_num_threads(args.threads)  # onnxruntime's sessions take as many (`ort_session`)
    if args.targets: targets_main(args); raise SystemExit
    configs = [(float(r), c, int(rt[0]) if rt else None) for r, c, *rt in (s.split(':') for s in args.configs.split(','))]
    print(f"{torch.get_num_threads()} threads, input {args.bs}x3x{args.size}x{args.size} (text: {args.bs}x{args.seq} tokens), median of {args.runs} runs, "
          f"median of {args.rounds} rounds\n")
    head = f"{'model':<36}{'pruned':<16}{'params':>9}{'MACs':>8}{'torch ms':>10}{'ratio':>8}"
    if args.onnx: head += f"{'ort ms':>9}{'ratio':>8}"
    print(head)
    for name in args.models.split(','):
        torch.manual_seed(0)
        base, x = build(name, args.bs, args.size, args.seq)
        base.eval()
        models = {'-': base}
        for r, c, rt in configs:
            m = model_copy(base)  # (fastai's WeightDropout keeps tensors `copy.deepcopy` refuses)
            Pruner(m, r, c, example_inputs=x, round_to=rt, verbose=False).prune_model()
            models[f"{r:g}% {c}" + (f" /{rt}" if rt else "")] = m.eval()
        onnx = args.onnx and isinstance(x, torch.Tensor)
        sessions = {k: onnx_session(m, x) for k, m in models.items()} if onnx else {}
        times = {k: [] for k in models}
        ort_times = {k: [] for k in models}
        keys = list(models)
        for i in range(args.rounds):
            for k in keys[i % len(keys):] + keys[:i % len(keys)]:  # rotate the order: no configuration always goes first
                times[k].append(latency(models[k], x, n_runs=args.runs))
                if onnx: ort_times[k].append(ort_latency(sessions[k], x, args.runs))
        p0, m0 = count_params(base), count_macs(base, x)
        t0 = statistics.median(times['-'])
        o0 = statistics.median(ort_times['-']) if onnx else None
        for k, m in models.items():
            t = statistics.median(times[k])
            row = (f"{name:<36}{k:<16}{count_params(m)/p0:>9.2f}{count_macs(m, x)/m0:>8.2f}{1000*t:>10.1f}{t/t0:>8.2f}")
            if onnx:
                o = statistics.median(ort_times[k])
                row += f"{1000*o:>9.1f}{o/o0:>8.2f}"
            print(row, flush=True)
