"""The docs build without Quarto: nbdev's processed notebooks and the README rendered to a static site with pandoc,
then opened in headless Chromium as a reader would (served over HTTP on localhost, no network)."""
import functools, http.server, json, os, re, shutil, subprocess, sys, threading
from pathlib import Path
import pytest, yaml
ROOT = Path(__file__).parents[1]
sys.path.insert(0, str(ROOT/'tools'))
from render_docs import render, sidebar, load_pages, directives
from docs_outputs import merged, altair_html_spec
from chromium import CHROMIUM, Chromium

if not CHROMIUM and os.environ.get('CI'):
    raise RuntimeError("CI needs Debian's chromium (./run.sh test installs it as root)")
SHOTS = ('index', 'cut', 'report')               # pages whose screenshots the test keeps

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    "The whole site, built as `./run.sh docs` builds it."
    shutil.rmtree(ROOT/'_proc', ignore_errors=True)        # as ./run.sh docs; `--force` would rewrite sidebar.yml
    r = subprocess.run([str(Path(sys.executable).parent/'nbdev-proc-nbs')], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-4000:]
    out = tmp_path_factory.mktemp('docs')/'site'
    return out, render(ROOT/'_proc', out)

def test_outputs_become_html_or_markdown():
    vl = {'output_type': 'display_data', 'data': {'application/vnd.vegalite.v6+json': {'mark': 'point'},
                                                   'image/png': 'iVBOR', 'text/plain': '<VegaLite 6 object>'}}
    (kind, h), = merged([vl])
    assert kind == 'html' and 'class="vega-chart"' in h and '"mark": "point"' in h and 'iVBOR' not in h
    doc = {'output_type': 'execute_result', 'data': {'text/markdown': '### f', 'text/plain': 'f'}}
    streams = [{'output_type': 'stream', 'name': 'stdout', 'text': t} for t in ('a\n', '\x1b[1mb</p>\n')]
    assert merged([doc, *streams]) == [('markdown', '### f'),
                                       ('html', '<pre class="output-stream stdout">a\nb&lt;/p&gt;\n</pre>')]
    png = {'output_type': 'display_data', 'data': {'image/png': 'iVBOR\n', 'text/plain': '<Figure>'}}
    assert merged([png]) == [('html', '<img src="data:image/png;base64,iVBOR" alt="output">')]
    widget = {'output_type': 'display_data',
              'data': {'application/vnd.jupyter.widget-view+json': {}, 'text/plain': 'VBox()'}}
    assert merged([widget]) == []
    cdn = '<div id="altair-viz-1"></div><script>(function(spec, embedOpt){vegaEmbed(...)' \
          '})({"mark": "bar", "data": {"values": []}}, {"mode": "vega-lite"});\n</script>'
    assert altair_html_spec(cdn) == {'mark': 'bar', 'data': {'values': []}} and altair_html_spec('<table>') is None

def test_cell_options():
    assert directives('#| echo: false\n#| output: asis\nshow_doc(f)') == ({'echo': 'false', 'output': 'asis'},
                                                                          'show_doc(f)')
    assert directives('#| slow\nx = 1\n#| not an option') == ({'slow': 'true'}, 'x = 1\n#| not an option')

def test_every_notebook_has_a_page_in_the_sidebar(site):
    out, pages = site
    names = {p.name for p in pages}
    nbs = {p.name for p in (ROOT/'nbs').glob('*.ipynb')}
    expected = {'index.html', 'tour.html'} | {re.sub(r'^\d+[a-z]?_', '', n[:-6]) + '.html'
                                              for n in nbs - {'index.ipynb'}}
    assert names == expected
    groups = sidebar(ROOT/'nbs'/'sidebar.yml', load_pages(ROOT/'_proc'))
    assert 'More' not in [g for g, _ in groups], "a notebook is missing from nbs/sidebar.yml"
    listed = [h for _, items in groups for _, h in items]
    assert sorted(listed) == sorted(names) and listed[0] == 'index.html'
    assert '<details open><summary>Analysis</summary>' in (out/'report.html').read_text()

def test_pages_show_signatures_source_links_and_outputs(site):
    out, _ = site
    cut = (out/'cut.html').read_text()
    assert '<h1 class="title">Cutting networks into pieces</h1>' in cut and 'id="cut-errors"' in cut
    assert 'show_doc' not in cut and 'first node or module kept' in cut      # doc cells became signatures
    assert re.search(r'<a href="https://github.com/[^"]+/cut.py#L\d+" target="_blank"[^>]*>source</a>', cut)
    assert '<span class="kw">def</span>' in cut and 'code span.kw' in (out/'site.css').read_text()  # highlighted
    stitch = (out/'stitch.html').read_text()
    assert 'href="cut.html#cut_before"' in stitch and 'stitchbook.github.io' not in stitch   # links stay on this site
    for p in out.glob('*.html'): assert '{target=' not in p.read_text(), p.name
    # acceptance 4: the stitch_info table
    table = stitch[stitch.index('>stitch_info</th>'):]
    assert 'bottleneck_no_downsample' in table[:table.index('</table>')]
    home = (out/'index.html').read_text()
    assert '<h1 id="stitchbook">stitchbook</h1>' in home             # the README is the home page
    assert '<a href="experiments.html"><code>nbs/17b_experiments.ipynb</code></a>' in home

def test_search_index(site):
    out, _ = site
    index = json.loads((out/'search.json').read_text())
    assert (out/'search.json').stat().st_size < 400_000                  # small: headings and the start of each section
    assert {'title': 'Cut errors', 'page': 'Cutting networks into pieces', 'href': 'cut.html#cut-errors'}.items() \
        <= next(e for e in index if e['href'] == 'cut.html#cut-errors').items()
    assert {e['href'].split('#')[0] for e in index} == {p.name for p in site[1]}

def _served(root:Path):
    "A localhost HTTP server for `root` in a thread; its base URL and the server (shut it down when done)."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    handler = functools.partial(Quiet, directory=str(root))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return f'http://127.0.0.1:{srv.server_address[1]}', srv

CHARTS_DRAWN = "[...document.querySelectorAll('.vega-chart')].every(c => c.querySelector('svg') || c.textContent)"
CHECK = """(() => { const c = [...document.querySelectorAll('.vega-chart')];
  if (c.length) window.scrollTo(0, c[0].getBoundingClientRect().top + window.scrollY - 120);
  return {charts: c.length, marks: c.map(x => x.querySelectorAll('svg .role-mark > *').length),
          text: document.body.innerText, overflow: [...document.querySelectorAll('main pre')].filter(
            p => p.scrollWidth > p.clientWidth + 1).length}; })()"""

@pytest.mark.skipif(not CHROMIUM, reason="needs Debian's chromium")
def test_every_page_in_headless_chromium(site, tmp_path_factory):
    out, pages = site
    shots = tmp_path_factory.mktemp('docs-screenshots')
    url, srv = _served(out)
    try:
        with Chromium(1400, 1800) as browser:
            seen = {}
            for p in pages:
                shot = shots/f'{p.stem}.png' if p.stem in SHOTS else None
                errors, seen[p.stem] = browser.visit(f'{url}/{p.name}', CHARTS_DRAWN, CHECK, shot)
                assert errors == [], (p.name, errors)
                assert '{target=' not in seen[p.stem]['text'] and seen[p.stem]['overflow'] == 0, p.name
            _, found = browser.visit(f'{url}/index.html?q=cut+errors', "document.querySelector('#search-results a')",
                                     "document.querySelector('#search-results a').getAttribute('href')")
    finally: srv.shutdown()
    assert found == 'cut.html#cut-errors'
    from PIL import Image
    for name in SHOTS: assert len(Image.open(shots/f'{name}.png').getcolors(1 << 20)) > 50, name  # not blank
    if os.environ.get('DOCS_SCREENSHOTS'):
        for name in SHOTS: shutil.copy(shots/f'{name}.png', Path(os.environ['DOCS_SCREENSHOTS'])/f'{name}.png')
    for page in ('report', 'explore'):             # acceptance 1 and 4: the figures are drawn, marks and all
        charts = {k: seen[page][k] for k in ('charts', 'marks')}
        enough = charts['charts'] >= (2 if page == 'report' else 1)
        assert enough and all(n > 0 for n in charts['marks']), (page, charts)
