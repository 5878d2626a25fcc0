"""The HTML report opens in a real browser (headless Chromium, no network) and its charts draw their marks; a sweep with
a failed job shows it with its error and log; the best-stitcher table sorts on a click."""
import os, re, shutil, subprocess
from pathlib import Path
import pandas as pd
import pytest
from stitchbook.grid import grid_table, similarity_file
from stitchbook.cli import stitch_report
from stitchbook.report import write_report, stitched
from stitchbook.results import ACC
from sweep_on_disk import sweep_on_disk

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
if not CHROMIUM and os.environ.get('CI'): raise RuntimeError("CI needs Debian's chromium (./run.sh test installs it as root)")
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--virtual-time-budget=20000',
         '--proxy-server=127.0.0.1:9']     # any fetch from the network fails

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

def _shown(dom:str)->str:
    "What the page shows: its body, scripts left out."
    return re.sub(r'<script.*?</script>', '', dom, flags=re.S).split('<body', 1)[1]

def _section(body:str, name:str)->str: return body.split(f'<section id="{name}">', 1)[1].split('</section>', 1)[0]

def _grid(sweep='same'):
    "A similarity table of the sweep on disk: its two source nodes against its two destination nodes, two measures."
    return grid_table([dict(sweep=sweep, source_node=f'stage{f - 1}', dest_node=f'stage{l + 1}', first_deleted_block=f,
                            last_deleted_block=l, measure=m, value=v + 0.1 * f - 0.05 * l)
                       for f in (1, 2) for l in (1, 2) for m, v in (('linear_cka', 0.7), ('stitch_accuracy', 0.6))])

@pytest.mark.skipif(not CHROMIUM, reason="needs Debian's chromium")
def test_a_sweep_with_a_failed_job_shows_it_offline_with_its_error_and_log(tmp_path):
    root = sweep_on_disk(tmp_path/'runs', fail='same/gap-1,2-conv3x3')
    _grid().to_parquet(similarity_file(root/'same'))
    stitch_report(str(root))
    dom = _chromium(tmp_path, '--dump-dom', (root/'report.html').as_uri())
    body = _shown(dom)
    failed = _section(body, 'failed')
    assert 'Failed jobs (1)' in failed and 'mat1 and mat2 shapes cannot be multiplied (64x3 and 4x5)' in failed
    assert 'while running' not in failed                                   # one line of the error
    assert '<a href="same/gap-1,2-conv3x3">gap-1,2-conv3x3</a>' in failed
    assert '<a href="same/gap-1,2-conv3x3/log.out">log.out</a>' in failed
    assert '<span class="state done">9 done</span>' in body and '<span class="state failed">1 failed</span>' in body
    assert 'machine testhost (local executor)' in body
    titles = re.findall(r'aria-roledescription="title"[^>]*aria-label="Title text \'([^\']*)\'', dom)
    assert {'Accuracy vs gap depth', 'Accuracy vs FLOPs', 'Similarity beside stitching accuracy'} <= set(titles), titles
    cells = dom.count('aria-roledescription="rect mark"')
    assert cells == 4 + 4 + 2, cells               # two measures of four pairs, and the two gaps trained in `same`
    assert 'this chart failed' not in body and 'linear_cka: ρ = ' in dom

def _driver(tmp_path):
    "Headless Chromium driven by Selenium through Debian's chromedriver, with no network."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    for f in ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
              '--proxy-server=127.0.0.1:9', f'--user-data-dir={tmp_path/"driver"}',
              '--window-size=1400,1200']: opts.add_argument(f)
    opts.binary_location = CHROMIUM
    return webdriver.Chrome(service=Service(shutil.which('chromedriver')), options=opts)

@pytest.mark.skipif(not (CHROMIUM and shutil.which('chromedriver')), reason="needs Debian's chromium-driver")
def test_the_best_stitcher_table_sorts_on_a_click(tmp_path):
    from selenium.webdriver.common.by import By
    paths = write_report(_results(), tmp_path/'report')
    driver = _driver(tmp_path)
    try:
        driver.get(paths['html'].as_uri())
        table = driver.find_element(By.CSS_SELECTOR, '#best table')
        heads = [th.text for th in table.find_elements(By.CSS_SELECTOR, 'th')]
        column = lambda name: [r.find_elements(By.TAG_NAME, 'td')[heads.index(name)].text
                               for r in table.find_elements(By.CSS_SELECTOR, 'tbody tr')]
        before = column('accuracy')
        table.find_elements(By.CSS_SELECTOR, 'th')[heads.index('accuracy')].click()
        up = column('accuracy')
        table.find_elements(By.CSS_SELECTOR, 'th')[heads.index('accuracy')].click()
        assert up == sorted(before, key=float) and column('accuracy') == up[::-1] and up != before
    finally: driver.quit()
