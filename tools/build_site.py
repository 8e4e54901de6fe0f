#!/usr/bin/env python
"""Build the documentation site as plain HTML, without Quarto: `python tools/build_site.py [--out _site]`.

nbdev processes the notebooks as for its Quarto site (`_proc/`: front matter, `show_doc` API entries, directives
applied); this script turns the processed notebooks into pages: markdown rendered with markdown-it, code with
Pygments, saved outputs as they are (text, tables, HTML), images as files, each API entry's arguments as a table,
and a sidebar of tutorials and reference pages. Links between pages are relative, so the site works from disk.
The GitHub deploy workflow builds the real nbdev site with Quarto; this one is for reading offline and for tests.
"""
import argparse, base64, html, json, os, re, shutil, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE_URL = 'https://fasterprune.github.io/fasterprune/'

def process_notebooks():
    "Run nbdev's notebook processing into `_proc/`, as `nbdev-docs` does before Quarto (which this skips)"
    from nbdev.config import get_config
    import nbdev.quarto
    cfg = get_config()
    os.chdir(cfg.config_path)  # nbdev resolves its paths from the project root
    return nbdev.quarto.proc_nbs(cfg.nbs_path, n_workers=0)

# ---------------------------------------------------------------- markdown and code
def _md():
    from markdown_it import MarkdownIt
    return MarkdownIt('commonmark', {'html': True}).enable('table')

def _highlight(code, lang='python'):
    try:
        from pygments import highlight
        from pygments.lexers import get_lexer_by_name
        from pygments.formatters import HtmlFormatter
        return highlight(code, get_lexer_by_name(lang), HtmlFormatter(nowrap=True))
    except Exception: return html.escape(code)

_quarto_attrs = re.compile(r'\]\(([^)]*)\)\{[^}]*\}')  # [text](url){target="_blank" ...}: Quarto link attributes
_callout = re.compile(r'^:::+.*$', re.M)  # Quarto fenced divs: keep their content

def render_markdown(text, md):
    text = _quarto_attrs.sub(r'](\1)', text)
    text = _callout.sub('', text)
    return md.render(text)

def _split_top(code:str, sep:str)->list:
    "Split `code` at `sep` where it is outside brackets and quotes"
    parts, depth, quote, cur = [], 0, None, ''
    for ch in code:
        if quote:
            if ch == quote: quote = None
        elif ch in '\'"': quote = ch
        elif ch in '([{': depth += 1
        elif ch in ')]}': depth -= 1
        elif ch == sep and depth == 0: parts.append(cur); cur = ''; continue
        cur += ch
    return parts + [cur]

def _signature_args(signature:str)->list:
    "`(name, type, default, comment)` of each argument of a `show_doc` signature block"
    lines = signature.splitlines()
    if len(lines) == 1:  # def f(a:int=1, b=2)->x:
        inner = signature[signature.index('(') + 1:signature.rindex(')')]
        lines = ['    ' + a for a in _split_top(inner, ',')]
    else: lines = lines[1:]
    args = []
    for line in lines:
        if line.strip().startswith(')'): break
        code, comment = line, ''
        parts = _split_top(line, '#')
        if len(parts) > 1: code, comment = parts[0], '#'.join(parts[1:]).strip()
        names = [a.strip() for a in _split_top(code, ',') if a.strip()]
        for i, a in enumerate(names):
            name, _, default = (x.strip() for x in a.partition('='))
            name, _, typ = (x.strip() for x in name.partition(':'))
            args.append((name, typ, default, comment if i == len(names) - 1 else ''))
    return args

def args_table(signature:str)->str:
    "An HTML table of the arguments in a `show_doc` signature block (`name:type=default, # comment` per line)"
    args = _signature_args(signature)
    if not args: return ''
    with_doc = any(doc for *_, doc in args)
    head = '<th>argument</th><th>type</th><th>default</th>' + ('<th>details</th>' if with_doc else '')
    rows = ''.join(f"<tr><td><code>{html.escape(n)}</code></td><td><code>{html.escape(t)}</code></td>"
                   f"<td><code>{html.escape(d)}</code></td>" + (f"<td>{_inline(doc)}</td>" if with_doc else '') + '</tr>'
                   for n, t, d, doc in args)
    return f'<table class="args"><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>'

_sig_block = re.compile(r'```python\n((?:def|class) \w[\s\S]*?)\n```')

def render_showdoc(text, md):
    "A `show_doc` entry: its markdown, plus a table of the arguments under its signature"
    sig = _sig_block.search(text)
    out = render_markdown(text, md)
    if sig: out = out.replace('</code></pre>', '</code></pre>' + args_table(sig.group(1)), 1)
    return f'<div class="showdoc">{out}</div>'

# ---------------------------------------------------------------- pages
class Page:
    def __init__(self, nb_path:Path, proc_root:Path):
        self.nb = json.loads(nb_path.read_text())
        self.rel = nb_path.relative_to(proc_root)
        front = self._front_matter()
        stem = Path(front.get('output-file') or self.rel.with_suffix('.html').name)
        self.out = self.rel.parent / stem.name
        self.title = front.get('title') or self.rel.stem
        self.description = front.get('description', '')
        self.section = 'Tutorials' if self.rel.parts[0] == 'tutorials' else ('Home' if self.out.name == 'index.html' else 'Reference')

    def _front_matter(self):
        cells = self.nb['cells']
        if not cells or cells[0]['cell_type'] != 'raw': return {}
        src = ''.join(cells[0]['source'])
        front = {}
        for key in ('title', 'description', 'output-file'):
            m = re.search(rf'^{key}:\s*(.+(?:\n  .+)*)', src, re.M)
            if m: front[key] = ' '.join(l.strip() for l in m.group(1).splitlines()).strip('"\'')
        return front

    def body(self, md, images_dir:Path, root:str):
        parts = []
        for i, cell in enumerate(self.nb['cells']):
            src = ''.join(cell['source'])
            if cell['cell_type'] == 'raw': continue
            if cell['cell_type'] == 'markdown': parts.append(render_markdown(src, md)); continue
            dirs = re.findall(r'^#\|\s*(.*)$', src, re.M)
            code = re.sub(r'^#\|.*\n?', '', src, flags=re.M).strip('\n')
            if code and not any(d.replace(' ', '') in ('echo:false', 'hide') for d in dirs):
                parts.append(f'<pre class="code"><code>{_highlight(code)}</code></pre>')
            for j, o in enumerate(cell.get('outputs', [])): parts.append(self._output(o, md, images_dir, root, f"{i}-{j}"))
        return '\n'.join(p for p in parts if p)

    def _output(self, o, md, images_dir, root, key):
        kind = o.get('output_type')
        if kind == 'stream':
            if o.get('name') == 'stderr': return ''
            return f'<pre class="output">{html.escape("".join(o["text"]))}</pre>'
        if kind == 'error': return f'<pre class="output error">{html.escape(o.get("ename", ""))}: {html.escape(o.get("evalue", ""))}</pre>'
        data = o.get('data', {})
        if 'image/png' in data:
            name = f"{self.out.with_suffix('').as_posix().replace('/', '_')}-{key}.png"
            (images_dir/name).write_bytes(base64.b64decode(''.join(data['image/png'])))
            return f'<p class="figure"><img src="{root}images/{name}" alt="figure {key} of {html.escape(self.title)}"></p>'
        if 'text/markdown' in data:
            text = ''.join(data['text/markdown'])
            return render_showdoc(text, md) if '### ' in text and '```python' in text else render_markdown(text, md)
        if 'text/html' in data: return f'<div class="output html">{"".join(data["text/html"])}</div>'
        if 'text/plain' in data: return f'<pre class="output">{html.escape("".join(data["text/plain"]))}</pre>'
        return ''

def relink(text:str, root:str)->str:
    "Links to the published site or to notebooks point at this site's own pages"
    text = text.replace(f'href="{SITE_URL}', f'href="{root}')
    return re.sub(r'href="([^":#]+)\.ipynb', r'href="\1.html', text)

CSS = """
body { margin: 0; font-family: system-ui, sans-serif; line-height: 1.5; color: #222; display: flex; }
nav { width: 250px; flex-shrink: 0; background: #f5f6f8; padding: 1em; height: 100vh; position: sticky; top: 0; overflow-y: auto; box-sizing: border-box; }
nav h2 { font-size: 0.8em; text-transform: uppercase; color: #666; margin: 1.2em 0 0.3em; }
nav a { display: block; color: #1a4f8b; text-decoration: none; padding: 2px 0; }
nav a.current { font-weight: bold; }
main { max-width: 960px; padding: 1em 2em 4em; min-width: 0; }
pre { background: #f7f7f9; padding: 0.7em; overflow-x: auto; font-size: 0.85em; border-radius: 4px; }
pre.output { background: #fff; border-left: 3px solid #ddd; }
table { border-collapse: collapse; margin: 0.8em 0; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 4px 8px; text-align: left; vertical-align: top; }
thead { background: #f0f2f5; }
.showdoc { border-top: 2px solid #e3e6ea; margin-top: 1.5em; }
.showdoc h3 { font-family: monospace; }
table.args td:first-child { white-space: nowrap; }
img { max-width: 100%; }
.description { color: #555; font-size: 1.1em; }
"""

PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{plain_title} - fasterprune</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{root}style.css"><link rel="stylesheet" href="{root}pygments.css"></head>
<body><nav>{nav}</nav>
<main><h1>{title}</h1><p class="description">{description}</p>
{body}
</main>
<script>
// readiness marker for tests: every image loaded with a size
window.addEventListener('load', () => {{
  const imgs = [...document.images];
  document.body.dataset.images = imgs.length;
  document.body.dataset.imagesOk = imgs.every(i => i.complete && i.naturalWidth > 0);
}});
</script></body></html>
"""

def _inline(text): return re.sub(r'`([^`]+)`', r'<code>\1</code>', html.escape(text))

def nav(pages, current, root):
    out = ['<a href="{}index.html"><b>fasterprune</b></a>'.format(root)]
    for section in ('Tutorials', 'Reference'):
        out.append(f'<h2>{section}</h2>')
        for p in pages:
            if p.section != section: continue
            cls = ' class="current"' if p is current else ''
            out.append(f'<a href="{root}{p.out.as_posix()}"{cls}>{_inline(p.title)}</a>')
    return '\n'.join(out)

def build(out:Path, proc:Path=None):
    proc = proc or process_notebooks()
    md = _md()
    if out.exists(): shutil.rmtree(out)
    (out/'images').mkdir(parents=True)
    pages = [Page(p, proc) for p in sorted(proc.rglob('*.ipynb')) if not p.name.startswith('_')]
    order = lambda p: (p.section != 'Home', p.section != 'Tutorials', p.rel.as_posix())
    pages.sort(key=order)
    for p in pages:
        root = '../' * len(p.out.parent.parts)
        body = relink(p.body(md, out/'images', root), root)
        page = PAGE.format(title=_inline(p.title), plain_title=html.escape(p.title.replace('`', '')),
                           description=_inline(p.description), root=root,
                           nav=nav(pages, p, root), body=body)
        (out/p.out).parent.mkdir(parents=True, exist_ok=True)
        (out/p.out).write_text(page)
    (out/'style.css').write_text(CSS)
    try:
        from pygments.formatters import HtmlFormatter
        (out/'pygments.css').write_text(HtmlFormatter().get_style_defs('pre.code'))
    except ImportError: (out/'pygments.css').write_text('')
    return pages

def broken_links(out:Path)->list:
    "`(page, link)` of every relative link or image in the site that points at no file"
    bad = []
    for page in out.rglob('*.html'):
        for link in re.findall(r'(?:href|src)="([^"]+)"', page.read_text()):
            if re.match(r'^[a-z]+:|^#|^mailto:', link): continue
            target = (page.parent/link.split('#')[0]).resolve()
            if not target.exists(): bad.append((page.relative_to(out).as_posix(), link))
    return bad

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT/'_site'), help='where to write the site (default: _site)')
    args = ap.parse_args()
    out = Path(args.out).resolve()
    pages = build(out)
    bad = broken_links(out)
    print(f"{len(pages)} pages written to {args.out}")
    if bad:
        for page, link in bad: print(f"broken link in {page}: {link}", file=sys.stderr)
        sys.exit(1)
