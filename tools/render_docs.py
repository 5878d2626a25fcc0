"""Render nbdev's processed notebooks (`_proc/`) to a static HTML site in `_docs/` with pandoc.

For machines without Quarto (which `nbdev-docs` needs): run `nbdev-proc-nbs` first, then this script.
Each page gets its title and description from the notebook's front matter and a sidebar linking every page."""
import json, sys
from pathlib import Path
import pypandoc, yaml

CSS = """body{font-family:system-ui,sans-serif;margin:0;display:flex}nav{min-width:14rem;padding:1rem;background:#f4f4f6;
min-height:100vh}nav a{display:block;padding:.2rem 0;color:#234}main{padding:1rem 2rem;max-width:60rem}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .5rem}"""

def front_matter(nb:dict)->dict:
    for c in nb['cells']:
        src = ''.join(c['source'])
        if c['cell_type'] == 'raw' and src.startswith('---'): return yaml.safe_load(src.strip('-\n')) or {}
    return {}

def quarto_cell(c:dict)->dict:
    "Apply the Quarto cell options nbdev emits: `echo: false` shows only the output, `output: asis` as markdown."
    src = ''.join(c['source'])
    if c['cell_type'] != 'code': return c
    opts = [l for l in src.splitlines() if l.startswith('#|')]
    code = '\n'.join(l for l in src.splitlines() if not l.startswith('#|'))
    if '#| echo: false' in opts:
        md = ''.join(''.join(o.get('data', {}).get('text/markdown', '')) for o in c.get('outputs', []))
        return {'cell_type': 'markdown', 'metadata': {}, 'source': md}
    outputs = [{**o, 'execution_count': o.get('execution_count') or 0} if o.get('output_type') == 'execute_result' else o
               for o in c.get('outputs', [])]            # pandoc reads a cleaned (null) execution count as nbformat 3
    return {**c, 'source': code, 'outputs': outputs, 'execution_count': c.get('execution_count') or 0}

def render(proc:Path, out:Path)->list:
    out.mkdir(parents=True, exist_ok=True)
    pages = []
    for nb_path in sorted(proc.glob('*.ipynb')):
        nb = json.loads(nb_path.read_text())
        fm = front_matter(nb)
        nb['cells'] = [quarto_cell(c) for c in nb['cells'] if not (c['cell_type'] == 'raw' and ''.join(c['source']).startswith('---'))]
        title = fm.get('title') or nb_path.stem
        name = 'index' if nb_path.stem == 'index' else nb_path.stem.split('_', 1)[-1]
        pages.append((name, title, fm.get('description', ''), nb))
    nav = ''.join(f'<a href="{n}.html">{t}</a>' for n, t, _, _ in pages)
    for name, title, desc, nb in pages:
        tmp = out/f'.{name}.ipynb'
        tmp.write_text(json.dumps(nb))
        body = pypandoc.convert_file(str(tmp), 'html', format='ipynb', extra_args=['--wrap=none'])
        tmp.unlink()
        lead = f'<h1>{title}</h1><p><em>{desc}</em></p>' if desc else f'<h1>{title}</h1>'
        (out/f'{name}.html').write_text(f'<!doctype html><html><head><meta charset="utf-8"><title>{title} – stitchbook</title>'
                                        f'<style>{CSS}</style></head><body><nav><b>stitchbook</b>{nav}</nav><main>{lead}{body}</main></body></html>')
    return [out/f'{n}.html' for n, *_ in pages]

if __name__ == '__main__':
    proc, out = (Path(a) for a in (sys.argv[1:3] if len(sys.argv) > 2 else ('_proc', '_docs')))
    for p in render(proc, out): print(p)
