"""Notebook cell outputs as the docs pages show them: what JupyterLab would show, with no kernel and no network.

Each output becomes either HTML (tables, reprs, images, streams, errors, Vega-Lite charts) or markdown (nbdev's
`show_doc`, `IPython.display.Markdown`), which the page renderer hands to pandoc with the prose."""
import base64, html, json, re

VEGALITE = re.compile(r'application/vnd\.vegalite\.v\d+[.+]json$')
WIDGET = 'application/vnd.jupyter.widget-view+json'
ANSI = re.compile(r'\x1b\[[0-9;]*[A-Za-z]')

def text(v) -> str:
    "A notebook string field, stored as a string or as a list of lines."
    return ''.join(v) if isinstance(v, list) else (v or '')

def altair_html_spec(h:str) -> dict | None:
    "The Vega-Lite spec inside the output of altair's `html` renderer (whose scripts come from a CDN), else None."
    if '{"mode": "vega-lite"}' not in h: return None
    m = re.search(r'\}\)\((\{.*\}), \{"mode": "vega-lite"\}\);', h, re.S)
    try: return json.loads(m.group(1)) if m else None
    except json.JSONDecodeError: return None

def chart(spec:dict) -> str:
    "A placeholder that the page's one Vega-Embed script draws `spec` into, as SVG."
    data = json.dumps(spec).replace('</', '<\\/')
    return f'<div class="vega-chart"></div><script type="application/json" class="vega-spec">{data}</script>'

def pre(s:str, cls:str) -> str: return f'<pre class="{cls}">{html.escape(ANSI.sub("", s))}</pre>'

def _data(data:dict) -> tuple:
    "('html' | 'markdown', content) for one display bundle, preferring what JupyterLab would show."
    vl = next((k for k in data if VEGALITE.match(k)), None)
    if vl: return 'html', chart(data[vl] if isinstance(data[vl], dict) else json.loads(text(data[vl])))
    if WIDGET in data: return 'html', ''                 # a live widget: nothing to show without a kernel
    if 'text/html' in data:
        h = text(data['text/html'])
        spec = altair_html_spec(h)
        return 'html', chart(spec) if spec else f'<div class="output-html">{h}</div>'
    if 'image/svg+xml' in data: return 'html', text(data['image/svg+xml'])
    for mime in ('image/png', 'image/jpeg', 'image/gif'):
        if mime in data: return 'html', f'<img src="data:{mime};base64,{text(data[mime]).strip()}" alt="output">'
    if 'text/markdown' in data: return 'markdown', text(data['text/markdown'])
    if 'text/plain' in data: return 'html', pre(text(data['text/plain']), 'output-text')
    return 'html', ''

def output(o:dict) -> tuple:
    "('html' | 'markdown', content) for one cell output."
    kind = o.get('output_type')
    if kind == 'stream': return 'html', pre(text(o.get('text')), f"output-stream {o.get('name', 'stdout')}")
    if kind == 'error': return 'html', pre('\n'.join(o.get('traceback') or [f"{o.get('ename')}: {o.get('evalue')}"]),
                                           'output-error')
    return _data(o.get('data', {}))

def merged(outputs:list) -> list:
    "The outputs of one cell as ('html' | 'markdown', content) pairs, adjacent streams of one name joined."
    res = []
    for o in outputs:
        prev = res[-1] if res else {}
        if o.get('output_type') == prev.get('output_type') == 'stream' and prev.get('name') == o.get('name'):
            res[-1] = {**prev, 'text': text(prev.get('text')) + text(o.get('text'))}
        else: res.append(o)
    return [r for r in map(output, res) if r[1]]

VEGA_EMBED = """for (const el of document.querySelectorAll('.vega-chart')) {
  const spec = JSON.parse(el.nextElementSibling.textContent);
  vegaEmbed(el, spec, {renderer: 'svg', actions: false})
    .catch(e => { el.textContent = 'This chart could not be drawn: ' + e; });
}"""

def vega_scripts() -> str:
    "Vega, Vega-Lite and Vega-Embed inlined (from vl-convert's bundle, no network), then the script that draws charts."
    import vl_convert as vlc
    bundle = vlc.javascript_bundle().replace('</script', '<\\/script')
    return f'<script type="module">{bundle}</script><script type="module">{VEGA_EMBED}</script>'
