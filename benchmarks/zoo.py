"""Prune every torchvision classification model at 50%, local and global, and print a table.

Each model runs in its own process, with a memory cap and a time limit, so that one model cannot take the machine
down. A row is `ok` when the pruned model runs in eval and train mode with outputs of the original shape. `timm:`
names are timm models (built without weights, at their default input size, 10 classes); the last column then
gives the first reason a group was left alone.

    python benchmarks/zoo.py [--models resnet18,vit_b_16,timm:swinv2_tiny_window8_256] [--timeout 600] [--mem-gb 12] [--attention head_dim] [--img-size 112]

`--attention` is the `Pruner`'s `attention` (what a transformer's attentions lose: 'heads', the default, 'head_dim' or 'none').
`--img-size` builds timm models for that input size (`img_size=`, for those that take it) and feeds it: a large model at
its own input can take longer to trace than the time limit (DeepSeek's 412M-parameter ViT at 546x546).
"""
import argparse, json, subprocess, sys, time

CHILD = r'''
import json, resource, sys, time, warnings
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[3]) * 2**30,) * 2)
warnings.simplefilter('ignore')
import torch, torchvision
from fasterprune.all import *
name, context, attention, img_size = sys.argv[1], sys.argv[2], sys.argv[4], int(sys.argv[5])
torch.manual_seed(0)
if name.startswith('timm:'):
    import timm
    model = timm.create_model(name[5:], pretrained=False, num_classes=10, **(dict(img_size=img_size) if img_size else {})).eval()
    size = img_size or model.pretrained_cfg.get('input_size', (3, 224, 224))[-1]
else:
    model = torchvision.models.get_model(name, weights=None).eval()
    size = 299 if name.startswith('inception') else 224
x = torch.randn(2, 3, size, size)
with torch.no_grad(): expected = model(x).shape
before, t = count_params(model), time.perf_counter()
pruner = Pruner(model, 50, context, example_inputs=x, verbose=False, attention=attention)
pruner.prune_model()
secs = time.perf_counter() - t
with torch.no_grad(): assert model.eval()(x).shape == expected, 'output shape changed'
model.train()(x)
why = next(iter({**pruner.skipped, **pruner.excluded}.values()), '')
print(json.dumps(dict(before=before, after=count_params(model), secs=secs, left=len(pruner.skipped) + len(pruner.excluded), why=why)))
'''

def run(name, context, timeout, mem_gb, attention='heads', img_size=0):
    t = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, '-c', CHILD, name, context, str(mem_gb), attention, str(img_size)], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired: return dict(status=f'timeout {timeout}s')
    if p.returncode == 0: return dict(status='ok', **json.loads(p.stdout.strip().splitlines()[-1]))
    err = (p.stderr.strip().splitlines() or ['killed'])[-1]
    return dict(status='FAIL ' + err[:90], secs=time.perf_counter() - t)

if __name__ == '__main__':
    import torchvision
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--models', default=None, help='comma-separated names; default every classification model')
    ap.add_argument('--timeout', type=int, default=600)
    ap.add_argument('--mem-gb', type=int, default=12)
    ap.add_argument('--attention', default='heads', help="what attentions lose: 'heads', 'head_dim' or 'none'")
    ap.add_argument('--img-size', type=int, default=0, help="timm models built for this input size and run on it (default: each model's own)")
    args = ap.parse_args()
    names = args.models.split(',') if args.models else torchvision.models.list_models(module=torchvision.models)
    w = max([24] + [len(n) + 2 for n in names])
    print(f"{'model':<{w}}{'context':<8}{'status':<8}{'params before':>15}{'after':>14}{'ratio':>7}{'seconds':>9}  left alone")
    n_ok = {'local': 0, 'global': 0}
    for name in names:
        for context in ('local', 'global'):
            r = run(name, context, args.timeout, args.mem_gb, args.attention, args.img_size)
            if r['status'] == 'ok':
                n_ok[context] += 1
                why = f" ({r['why'][:90]})" if r['left'] and name.startswith('timm:') else ''
                print(f"{name:<{w}}{context:<8}{'ok':<8}{r['before']:>15,}{r['after']:>14,}{r['after']/r['before']:>7.2f}{r['secs']:>9.1f}  {r['left'] or ''}{why}", flush=True)
            else: print(f"{name:<{w}}{context:<8}{r['status']}", flush=True)
    print(f"pruned: {n_ok['local']}/{len(names)} local, {n_ok['global']}/{len(names)} global")
