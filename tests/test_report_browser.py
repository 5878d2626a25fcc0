"The HTML report opens in a real browser (headless Chromium, no network) and its charts draw their marks."
import os, re, shutil, subprocess
from pathlib import Path
import pandas as pd
import pytest
from stitchbook.report import write_report, stitched
from stitchbook.results import ACC

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
if not CHROMIUM and os.environ.get('CI'): raise RuntimeError("CI needs Debian's chromium (./run.sh test installs it as root)")
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--virtual-time-budget=20000']

def _results(n_gaps=3, stitchers=('linear', 'bottleneck', 'conv3x3')):
    "A results table shaped like `collect`'s: one parent and the last epochs of `n_gaps` x stitchers jobs, in two sweeps."
    rows = []
    for sweep in ('same', 'cross'):
        rows.append(dict(sweep=sweep, role='parent', parent_of='both', network='net', adapter='parent', num_downsamples=0,
                         first_deleted_block=0, last_deleted_block=0, source_stage='', dest_stage='', Epoch=0, flops=3e6,
                         folder=f'{sweep}/p', seed=0, state='done', **{ACC: 0.9}))
        for g in range(n_gaps):
            for j, a in enumerate(stitchers):
                rows.append(dict(sweep=sweep, role='stitch', parent_of='', network='', adapter=a, num_downsamples=g, first_deleted_block=1 + g // 2,
                                 last_deleted_block=1 + g, source_stage=f's{g // 2}', dest_stage=f's{g + 2}', Epoch=2, flops=2e6 - 1e5 * g,
                                 folder=f'{sweep}/{g}{a}', seed=0, state='done', **{ACC: 0.85 - 0.05 * g - 0.02 * j}))
    df = pd.DataFrame(rows)
    df['source_depth'], df['dest_depth'] = df.first_deleted_block, df.last_deleted_block + 1
    df['dest_parent_accuracy'] = 0.9; df['penalty'] = 0.9 - df[ACC]
    return df

def _chromium(tmp_path, *args):
    r = subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={tmp_path/"profile"}', *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout

@pytest.mark.skipif(not CHROMIUM, reason="needs Debian's chromium")
def test_report_renders_both_charts_offline_in_headless_chromium(tmp_path):
    df = _results()
    paths = write_report(df, tmp_path/'report')
    n = len(stitched(df))
    dom = _chromium(tmp_path, '--dump-dom', paths['html'].as_uri())
    assert 'class="marks"' in dom and 'Error' not in re.sub(r'<script.*?</script>', '', dom, flags=re.S)[:5000]
    titles = re.findall(r'aria-roledescription="title"[^>]*aria-label="Title text \'([^\']*)\'', dom)
    assert 'Accuracy vs gap depth' in titles and 'Accuracy vs FLOPs' in titles, titles
    points = dom.count('aria-roledescription="point"')
    assert points == n + n + 2, points                    # every stitched job in both charts, and the two parents
    assert dom.count('aria-roledescription="rule mark"') >= 2          # the parent baselines in the depth panels
    body = re.sub(r'<script.*?</script>', '', dom, flags=re.S).split('<body', 1)[1]     # what the page shows, scripts left out
    assert '<h1>stitchbook sweep report</h1>' in body and 'Best stitcher per gap' in body and '<table' in body
    shot = tmp_path/'shot.png'
    _chromium(tmp_path, f'--screenshot={shot}', '--window-size=1400,1800', paths['html'].as_uri())
    from PIL import Image
    img = Image.open(shot).convert('L')
    colours = img.getcolors(maxcolors=1 << 20)
    assert len(colours) > 50, "the screenshot is blank"   # drawn axes, marks and text, not an empty page
