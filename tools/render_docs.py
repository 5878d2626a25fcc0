"""Render nbdev's processed notebooks (`_proc/`) and the README to a static site in `_docs/`, with pandoc.

For machines without Quarto (which `nbdev-docs` needs): `./run.sh docs` runs `nbdev-proc-nbs`, then this script.
Pages show what Quarto would: the cells' outputs (tables, reprs, images, altair charts drawn offline), code highlighted
by pandoc, `show_doc` signatures with their source links, the sidebar of `sidebar.yml`, a table of contents per page
and a search box over a small JSON index. The README is the home page."""
import html, json, re, shutil, sys, tempfile
from pathlib import Path
import pypandoc, yaml
sys.path.insert(0, str(Path(__file__).parent))
from docs_outputs import merged, text, vega_scripts

ASSETS = Path(__file__).parent/'docs_assets'
READER = 'ipynb+link_attributes+fenced_divs+bracketed_spans+header_attributes+fenced_code_attributes'
PANDOC = ['--wrap=none', '--syntax-highlighting=pygments']
HOME, TOUR = 'index.html', 'tour.html'      # the README is the home page, so index.ipynb gets a page of its own

def front_matter(nb:dict) -> dict:
    "The YAML front matter nbdev writes into a raw cell at the top of a processed notebook."
    for c in nb['cells']:
        src = text(c['source'])
        if c['cell_type'] == 'raw' and src.startswith('---'): return yaml.safe_load(src.strip().strip('-')) or {}
    return {}

def directives(src:str) -> tuple:
    "The leading `#| key: value` lines of a code cell as a dict, and the code without them."
    lines, opts = src.splitlines(), {}
    while lines and (m := re.match(r'#\|\s*([\w-]+)\s*(?::\s*(.*))?$', lines[0].strip())):
        opts[m[1]] = (m[2] or 'true').strip().lower()
        lines.pop(0)
    return opts, '\n'.join(lines).strip('\n')

def md_cell(s:str) -> dict: return {'cell_type': 'markdown', 'metadata': {}, 'source': s}
def html_cell(s:str) -> dict: return {'cell_type': 'raw', 'metadata': {'format': 'text/html'}, 'source': s}
def code_cell(s:str) -> dict:
    return {'cell_type': 'code', 'metadata': {}, 'execution_count': 0, 'outputs': [], 'source': s}

def cells(c:dict) -> list:
    "A processed cell as pandoc should render it: prose as is; code without its options, then each output."
    if c['cell_type'] == 'raw': return [] if text(c['source']).startswith('---') else [c]
    if c['cell_type'] != 'code': return [c]
    opts, code = directives(text(c['source']))
    if opts.get('include') == 'false': return []
    res = [] if opts.get('echo') == 'false' or not code else [code_cell(code)]
    if opts.get('output') == 'false': return res
    return res + [md_cell(s) if kind == 'markdown' else html_cell(f'<div class="cell-output">{s}</div>')
                  for kind, s in merged(c.get('outputs', []))]

def body_html(nb:dict, tmp:Path) -> str:
    "The page body of a processed notebook: one pandoc run over its cells."
    doc = {**nb, 'metadata': {'kernelspec': {'name': 'python3', 'language': 'python', 'display_name': 'Python 3'}},
           'cells': [d for c in nb['cells'] for d in cells(c)]}
    (tmp/'page.ipynb').write_text(json.dumps(doc))
    return pypandoc.convert_file(str(tmp/'page.ipynb'), 'html', format=READER, extra_args=PANDOC)

def page_href(name:str, fm:dict, home_taken:bool=True) -> str:
    "A notebook's page: nbdev's `output-file`, except that index.ipynb yields the home page to the README."
    if name == 'index.ipynb': return TOUR if home_taken else HOME
    return fm.get('output-file') or re.sub(r'^\d+[a-z]?_', '', Path(name).stem) + '.html'

def load_pages(proc:Path, home_taken:bool=True) -> dict:
    "Every processed notebook by file name: its page, title, description and cells."
    res = {}
    for p in sorted(proc.glob('*.ipynb')):
        nb = json.loads(p.read_text())
        fm = front_matter(nb)
        res[p.name] = dict(href=page_href(p.name, fm, home_taken), title=fm.get('title', p.stem),
                           desc=fm.get('description', ''), nb=nb)
    return res

def sidebar(yml:Path, pages:dict) -> list:
    "`sidebar.yml` as (section, [(label, page)]) groups, Home first; notebooks it leaves out come last, under 'More'."
    contents = yaml.safe_load(yml.read_text())['website']['sidebar']['contents'] if yml.exists() else []
    seen = set()
    def entry(e):
        f, label = (e, None) if isinstance(e, str) else (e.get('href'), e.get('text'))
        if f not in pages: return None
        seen.add(f)
        return label or pages[f]['title'], pages[f]['href']
    groups = [(None, [('Home', HOME)] if all(p['href'] != HOME for p in pages.values()) else [])]
    for e in contents:
        if isinstance(e, dict) and 'section' in e:
            groups.append((e['section'], [x for x in map(entry, e['contents']) if x]))
        elif x := entry(e): groups[0][1].append(x)
    rest = [entry(f) for f in pages if f not in seen]
    return [(g, items) for g, items in groups + [('More', rest)] if items]

def nav_html(groups:list, here:str) -> str:
    "The sidebar, with the current page marked."
    def link(label, href):
        return f'<a href="{href}"' + (' aria-current="page"' if href == here else '') + f'>{html.escape(label)}</a>'
    parts = [''.join(link(*x) for x in items) if not section else
             f'<details open><summary>{html.escape(section)}</summary>{"".join(link(*x) for x in items)}</details>'
             for section, items in groups]
    return '<nav class="sidebar" aria-label="Pages">' + ''.join(parts) + '</nav>'

HEADING = re.compile(r'<h([23])\b[^>]*\bid="([^"]+)"[^>]*>(.*?)</h\1>', re.S)

def plain(h:str) -> str:
    "The visible text of an HTML fragment, whitespace collapsed."
    h = re.sub(r'<(script|style)\b.*?</\1>', ' ', h, flags=re.S)
    return ' '.join(html.unescape(re.sub(r'<[^>]+>', ' ', h)).split())

def sections(body:str) -> list:
    "The page's h2 and h3 headings as (level, id, title, text up to the next heading)."
    ms = list(HEADING.finditer(body))
    return [(int(m[1]), m[2], plain(m[3]), plain(body[m.end():n.start() if n else len(body)]))
            for m, n in zip(ms, ms[1:] + [None])]

def search_entries(href:str, title:str, desc:str, body:str, n:int=240) -> list:
    "Entries of the search index: the page, then each of its sections, with the first `n` characters of their text."
    intro = plain(HEADING.split(body, 1)[0])
    res = [dict(title=title, page=title, href=href, text=(plain(desc) + ' ' + intro).strip()[:n])]
    return res + [dict(title=t, page=title, href=f'{href}#{i}', text=x[:n]) for _, i, t, x in sections(body)]

def toc_html(body:str) -> str:
    "The right-hand table of contents: the page's h2 and h3 headings."
    links = ''.join(f'<a class="toc-h{lvl}" href="#{i}">{html.escape(t)}</a>' for lvl, i, t, _ in sections(body))
    return f'<aside class="toc" aria-label="On this page"><b>On this page</b>{links}</aside>' if links else ''

def local_links(body:str, site_url:str) -> str:
    "Links that nbdev points at the published site (`site-url`), made relative so they work in this build."
    return body.replace(f'href="{site_url.rstrip("/")}/', 'href="') if site_url else body

def readme_html(readme:Path, pages:dict, repo_url:str) -> str:
    "The README as the home page: its file links point into the repository, its `nbs/*.ipynb` mentions to their pages."
    body = pypandoc.convert_file(str(readme), 'html', format='gfm', extra_args=PANDOC)
    if repo_url: body = re.sub(r'href="(?![a-z]+:|#)([^"]+)"', lambda m: f'href="{repo_url}/blob/main/{m[1]}"', body)
    by_nb = {f'nbs/{f}': p['href'] for f, p in pages.items()}
    return re.sub(r'<code>(nbs/[\w.-]+\.ipynb)</code>',
                  lambda m: f'<a href="{by_nb[m[1]]}">{m[0]}</a>' if m[1] in by_nb else m[0], body)

def site_config(proc:Path) -> dict:
    "The site's title, published URL and repository, from nbdev's `nbdev.yml`."
    yml = proc/'nbdev.yml'
    web = (yaml.safe_load(yml.read_text()) or {}).get('website', {}) if yml.exists() else {}
    return dict(title=web.get('title', 'docs'), url=web.get('site-url', ''), repo=web.get('repo-url', ''))

def lead_html(title:str, desc:str) -> str:
    "The page's title and one-line description, as Quarto shows them above the content."
    desc = re.sub(r'`([^`]+)`', r'<code>\1</code>', html.escape(desc))
    return f'<header class="lead"><h1 class="title">{html.escape(title)}</h1>' + (
        f'<p class="description">{desc}</p>' if desc else '') + '</header>'

def layout(site:dict, title:str, main:str, nav:str, toc:str) -> str:
    "One whole page: top bar with the search box, sidebar, content, table of contents; chart scripts when needed."
    repo = f'<a class="repo" href="{site["repo"]}">GitHub</a>' if site['repo'] else ''
    charts = vega_scripts() if 'class="vega-chart"' in main else ''
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>{html.escape(title)} – {site['title']}</title>
<link rel="stylesheet" href="site.css"><link rel="stylesheet" href="styles.css"></head><body>
<header class="topbar"><a class="brand" href="{HOME}">{site['title']}</a><div class="search" role="search">
<input id="search" type="search" placeholder="Search" aria-label="Search the docs" autocomplete="off">
<div id="search-results" hidden></div></div>{repo}</header>
<div class="page">{nav}<main>{main}</main>{toc}</div><script src="search.js"></script>{charts}</body></html>"""

def highlight_css() -> str:
    "Pandoc's CSS for the classes its highlighter writes, read off a standalone page it renders."
    page = pypandoc.convert_text('```python\nx = 1\n```', 'html', format='md',
                                 extra_args=['--standalone', '--metadata=title:x', *PANDOC])
    return page.split('/* CSS for syntax highlighting */', 1)[1].split('</style>', 1)[0]

def write_assets(proc:Path, out:Path, index:list):
    "The site's CSS (ours, pandoc's highlighting, the notebooks' `styles.css`), search script and search index."
    (out/'site.css').write_text((ASSETS/'site.css').read_text() + highlight_css() + (ASSETS/'wrap.css').read_text())
    shutil.copy(proc/'styles.css' if (proc/'styles.css').exists() else ASSETS/'site.css', out/'styles.css')
    shutil.copy(ASSETS/'search.js', out/'search.js')
    (out/'search.json').write_text(json.dumps(index, ensure_ascii=False, separators=(',', ':')))

def render(proc:Path, out:Path, readme:Path=Path(__file__).parents[1]/'README.md') -> list:
    "Render every processed notebook in `proc`, and `readme` as the home page, into `out`; the pages written."
    out.mkdir(parents=True, exist_ok=True)
    site, has_readme = site_config(proc), bool(readme) and readme.exists()
    pages = load_pages(proc, home_taken=has_readme)
    groups = sidebar(proc/'sidebar.yml', pages)
    with tempfile.TemporaryDirectory() as tmp:
        docs = [(p['href'], p['title'], lead_html(p['title'], p['desc']), p['desc'], body_html(p['nb'], Path(tmp)))
                for p in pages.values()]
    if has_readme: docs.insert(0, (HOME, site['title'], '', '', readme_html(readme, pages, site['repo'])))
    index = []
    for href, title, lead, desc, body in docs:
        body = local_links(body, site['url'])
        index += search_entries(href, title, desc, body)
        (out/href).write_text(layout(site, title, lead + body, nav_html(groups, href), toc_html(body)))
    write_assets(proc, out, index)
    return [out/d[0] for d in docs]

if __name__ == '__main__':
    proc, out = (Path(a) for a in (sys.argv[1:3] if len(sys.argv) > 2 else ('_proc', '_docs')))
    for p in render(proc, out): print(p)
