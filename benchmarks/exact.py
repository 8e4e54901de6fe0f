"""Do pruned timm models compute what their masked originals compute? `check_exact` on one small model per timm module.

For each model: built untrained with 10 classes, randomized and in float64 (`fasterprune.verify.check_exact`),
pruned at 50% of filters, local and global, and compared with the original whose removed channels are zeroed.
Groups that reach a layer that mixes channels (a norm over them, weight standardization, ECA, an attention scaled by
its head width) are not exact by construction: they are found first (`inexact_groups`, one prune per group) and left
out of the comparison. A row passes when the outputs agree to 1e-10 of their size and the masking moved the
original's outputs by more than 0.1%; 'nothing compared' when every group was left out.

Each model runs in its own process with a memory cap and a time limit, at 64x64 (built with `img_size=64` where
the model takes it, else at the smallest of 64, 96, 128 and its own input size that runs); a model of more than 60M
parameters is built with two blocks (`depth=2`) where it takes that, else skipped, and so is a model that needs more
than 128 pixels and has more than 10M parameters (float64 at full size takes minutes per group).

    python benchmarks/exact.py [--models convnext_femto,mobileone_s1] [--timeout 300] [--mem-gb 16] [--jobs 2]

The default list (`MODELS`) is the smallest of up to six models of each of timm's modules (by parameters),
leaving out the ones the model zoo page already checks; `--select` prints that selection again from the installed timm.
"""
import argparse, json, subprocess, sys, time
from concurrent.futures import ThreadPoolExecutor

CHILD = r'''
import json, resource, sys, time, warnings
resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[2]) * 2**30,) * 2)
warnings.simplefilter('ignore')
import torch, timm
torch.set_num_threads(1)
from fasterprune.verify import check_exact, inexact_groups
name = sys.argv[1]
def build(**kw):
    torch.manual_seed(0)
    return timm.create_model(name, pretrained=False, num_classes=10, **kw).eval()
def runs(kw, size):
    try:
        with torch.no_grad(): build(**kw)(torch.randn(2, 3, size, size))
        return True
    except Exception: return False
cfg = timm.get_pretrained_cfg(name)
own = cfg.input_size[-1] if cfg is not None and getattr(cfg, 'input_size', None) else 224
kw, size = next(((kw, s) for kw, s in [(dict(img_size=64), 64), ({}, 64), ({}, 96), ({}, 128), ({}, own)] if runs(kw, s)), (None, None))
if kw is None: print(json.dumps(dict(outcome='does not build or run'))); sys.exit()
params = sum(p.numel() for p in build(**kw).parameters())
if params > 60_000_000 and runs(dict(kw, depth=2), size): kw = dict(kw, depth=2); params = sum(p.numel() for p in build(**kw).parameters())  # a transformer: two blocks
if params > 60_000_000: print(json.dumps(dict(outcome='skipped: over 60M parameters', params=params))); sys.exit()
if size > 128 and params > 10_000_000: print(json.dumps(dict(outcome=f'skipped: needs {size} px', params=params))); sys.exit()
t, x = time.perf_counter(), torch.randn(2, 3, size, size)
not_exact = inexact_groups(lambda: build(**kw), x)
rows = []
for context in ('local', 'global'):
    r = check_exact(build(**kw), x, 50, context, not_exact)
    rows.append(dict(context=context, checked=len(r.checked), not_exact=len(r.not_exact), left_alone=len(r.left_alone), rel=r.rel,
                     moved=r.moved, ok=r.ok, unrecorded=r.unrecorded, why=sorted(set().union(*r.not_exact.values()))))
print(json.dumps(dict(outcome='checked', params=params, size=size, depth=kw.get('depth'), secs=time.perf_counter() - t, rows=rows)))
'''

MODELS = ['beit_base_patch16_224', 'halonet_h1', 'gernet_s', 'cait_xs24_384', 'coat_tiny', 'convit_tiny',
          'convmixer_768_32', 'test_convnext', 'cpubone_nano', 'crossvit_tiny_240', 'csatv2', 'darknet17',
          'cspnext_tiny', 'davit_tiny', 'deepseek_vit_412m', 'deit_tiny_patch16_224', 'densenet121',
          'dla60_res2next', 'dpn48b', 'edgenext_xx_small', 'efficientformer_l1', 'efficientformerv2_s0', 'tinynet_c',
          'efficientvim_m1', 'efficientvit_b0', 'efficientvit_m0', 'eva02_base_patch14_224', 'fasternet_t0',
          'fastvit_t8', 'focalnet_tiny_srf', 'gcvit_xxtiny', 'gemma4_vit_167m_enc', 'ghostnetv3_050',
          'hardcorenas_b', 'hgnetv2_b0', 'hiera_tiny_224', 'sam2_hiera_tiny', 'hrnet_w18', 'iformer_t',
          'inception_next_atto', 'inception_resnet_v2', 'inception_v3', 'inception_v4', 'lcnetv2_small',
          'levit_128s', 'lowformer_b0', 'test_mambaout', 'test_coatnet', 'poolformer_s12', 'gmlp_ti16_224',
          'lcnet_035', 'mobilenetv5_base', 'mobilevit_xxs', 'mvitv2_tiny', 'naflexvit_base_patch16_gap',
          'nasnetalarge', 'nest_tiny', 'nextvit_small', 'nfnet_f0', 'pit_ti_224', 'pnasnet5large', 'pvt_v2_b0',
          'qwen3_vit_88m', 'rdnet_small', 'regnetx_004', 'repghostnet_050', 'repvit_m1', 'res2next50', 'resnest26d',
          'resnet10t', 'resnetv2_18', 'rexnetr_100', 'selecsls42', 'legacy_seresnet18', 'sequencer2d_s', 'shvit_s1',
          'skresnet34', 'starnet_s050', 'swiftformer_xs', 'swin_s3_tiny_224', 'swinv2_tiny_window8_256',
          'swinv2_cr_tiny_224', 'tiny_vit_5m_224', 'tnt_s_legacy_patch16_224', 'tresnet_v2_l', 'twins_svt_small',
          'vgg11', 'visformer_tiny', 'test_vit', 'vit_base_mci_224', 'test_vit_relpos', 'samvit_base_patch16_224',
          'vitamin_small_224', 'volo_d1_224', 'vovnet39a', 'legacy_xception', 'xception41p', 'xcit_nano_12_p8_224']  # `--select` with timm 1.0.31

def select(per_module:int=6)->list:
    "The smallest of up to `per_module` models (by parameters, built on the meta device) of each timm module, less those the zoo page checks"
    import torch, timm
    zoo = {'mobilenetv3_small_050', 'ghostnet_050', 'vit_tiny_patch16_224', 'swin_tiny_patch4_window7_224', 'convnext_atto', 'resnet18',
           'efficientnet_b0', 'regnetx_002', 'rexnet_100', 'dla34', 'res2net50_14w_8s', 'cspresnet50', 'hrnet_w18_small', 'selecsls42b',
           'repvgg_a0', 'mixnet_s', 'rdnet_tiny', 'tresnet_m', 'resnest14d', 'skresnet18', 'gcresnet33ts', 'dpn68'}
    small = ('atto', 'femto', 'pico', 'nano', 'tiny', 'xxs', 'xs', 'small', '_050', '18', '_s', 't')
    picked = []
    for module in timm.list_modules():
        names = [n for n in timm.list_models(module=module) if n not in zoo]
        names = sorted(names, key=lambda n: (not any(s in n for s in small), len(n)))[:per_module]
        sizes = {}
        for n in names:
            try:
                with torch.device('meta'): sizes[n] = sum(p.numel() for p in timm.create_model(n, pretrained=False, num_classes=10).parameters())
            except Exception: pass
        if sizes: picked.append(min(sizes, key=sizes.get))
    return picked

def run(name, timeout, mem_gb):
    t = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, '-c', CHILD, name, str(mem_gb)], capture_output=True, text=True, timeout=timeout)
        out = p.stdout.strip().splitlines()
        res = json.loads(out[-1]) if p.returncode == 0 and out else dict(outcome='raised: ' + (p.stderr.strip().splitlines() or ['?'])[-1][:120])
    except subprocess.TimeoutExpired: res = dict(outcome=f'timed out ({timeout} s)')
    res['wall'] = time.perf_counter() - t
    return name, res

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--models', default=None, help='comma-separated timm names (default: MODELS)')
    ap.add_argument('--timeout', type=int, default=300)
    ap.add_argument('--mem-gb', type=int, default=16, help='address-space cap per model (PyTorch reserves far more than it uses: 8 failed on six models)')
    ap.add_argument('--jobs', type=int, default=2, help='models checked at once, one thread each')
    ap.add_argument('--select', action='store_true', help='print the default selection from the installed timm, and stop')
    args = ap.parse_args()
    if args.select: print(','.join(select())); sys.exit()
    models = args.models.split(',') if args.models else MODELS
    print(f"{'timm model':<30}{'params':>11}{'px':>5}{'context':>9}{'checked':>9}{'not exact':>11}{'left alone':>12}{'relative':>10}  pass")
    counts = {}
    with ThreadPoolExecutor(args.jobs) as pool:
        for name, res in pool.map(lambda n: run(n, args.timeout, args.mem_gb), models):
            if res['outcome'] != 'checked':
                counts[res['outcome'].split(':')[0]] = counts.get(res['outcome'].split(':')[0], 0) + 1
                print(f"{name:<30}  {res['outcome']}", flush=True); continue
            for r in res['rows']:
                ok = 'yes' if r['ok'] else 'nothing compared' if not r['checked'] else 'NO'
                counts[ok] = counts.get(ok, 0) + 1
                print(f"{name + (' (2 blocks)' if res.get('depth') else ''):<30}{res['params']:>11,}{res['size']:>5}{r['context']:>9}{r['checked']:>9}{r['not_exact']:>11}{r['left_alone']:>12}"
                      f"{r['rel']:>10.1e}  {ok}  {', '.join(r['why'])}{' unrecorded: ' + ', '.join(r['unrecorded']) if r['unrecorded'] else ''}", flush=True)
    print('\n' + ', '.join(f"{k}: {v}" for k, v in counts.items()))
