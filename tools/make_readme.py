#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb without Quarto (which `nbdev-readme` needs).

Hidden cells (`#| hide`) are dropped, nbdev directives are stripped, the title and summary become a heading
and a quote, code cells become fenced blocks followed by their saved text outputs.
`python tools/make_readme.py --check` exits 1 when README.md is not what the notebook gives."""
import sys, re
from pathlib import Path
import nbformat

ROOT = Path(__file__).resolve().parent.parent
_directive = re.compile(r'^\s*#\|\s*(.*)$')

def _directives(src):
    return [m.group(1).strip() for l in src.splitlines() if (m := _directive.match(l))]

def _strip(src):
    return '\n'.join(l for l in src.splitlines() if not _directive.match(l)).strip('\n')

def _outputs(cell):
    "Saved text outputs of a code cell: printed text and plain-text results"
    texts = []
    for o in cell.get('outputs', []):
        if o.output_type == 'stream' and o.name == 'stdout': texts.append(o.text)
        elif o.output_type in ('execute_result', 'display_data') and 'text/plain' in o.data: texts.append(o.data['text/plain'])
    return '\n'.join(t.rstrip('\n') for t in texts)

def render(nb_path):
    nb = nbformat.read(nb_path, as_version=4)
    parts = []
    for cell in nb.cells:
        dirs = _directives(cell.source)
        if any(d.split()[0] in ('hide', 'exporti', 'export', 'exports', 'default_exp') for d in dirs if d): continue
        src = _strip(cell.source)
        if cell.cell_type == 'markdown': parts.append(src)
        elif cell.cell_type == 'code' and src:
            parts.append(f"```python\n{src}\n```")
            out = _outputs(cell)
            if out: parts.append(f"```\n{out}\n```")
    text = '\n\n'.join(parts) + '\n'
    return "<!-- Generated from nbs/index.ipynb by tools/make_readme.py: edit the notebook, not this file -->\n\n" + text

if __name__ == '__main__':
    readme, text = ROOT/'README.md', render(ROOT/'nbs'/'index.ipynb')
    if '--check' in sys.argv:
        if not readme.exists() or readme.read_text() != text:
            sys.exit("README.md is out of date with nbs/index.ipynb: run `python tools/make_readme.py` and commit it")
        print("README.md is up to date")
    else: readme.write_text(text)
