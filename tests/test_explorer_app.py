"""The explorer as an app: `stitch-explore ROOT` serves it with Voilà on localhost; headless Chromium, driven by
Selenium through Debian's chromium-driver, changes two widgets and sees the live heatmap's data change, then clicks a
cell and sees that job's config. No network; the server stops at the end."""
import os, shutil, signal, socket, subprocess, sys, time, urllib.request
import pytest
from sweep_on_disk import sweep_on_disk

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
DRIVER = shutil.which('chromedriver')
if not (CHROMIUM and DRIVER) and os.environ.get('CI'):
    raise RuntimeError("CI needs Debian's chromium and chromium-driver (apt-get install chromium-driver)")
pytestmark = pytest.mark.skipif(not (CHROMIUM and DRIVER), reason="needs Debian's chromium and chromium-driver")

def _free_port()->int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]

@pytest.fixture
def app(tmp_path):
    "The app over a small sweep on disk, served on a free port; stopped, with its kernel, when the test ends."
    root, port = sweep_on_disk(tmp_path/'runs'), _free_port()
    script = tmp_path/'explore.py'           # what the console script does
    script.write_text("from stitchbook.explore import stitch_explore\nstitch_explore()\n")
    log = open(tmp_path/'voila.log', 'w')
    server = subprocess.Popen([sys.executable, str(script), str(root), '--port', str(port), '--no-browser'],
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f'http://127.0.0.1:{port}/'
    try:
        for _ in range(240):
            try: urllib.request.urlopen(url + 'api', timeout=2); break
            except OSError: time.sleep(0.5)
            assert server.poll() is None, (tmp_path/'voila.log').read_text()[-3000:]
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try: server.wait(20)
        except subprocess.TimeoutExpired: os.killpg(server.pid, signal.SIGKILL)
        log.close()

def _driver(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    for f in ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
              '--proxy-server=127.0.0.1:9', f'--user-data-dir={tmp_path/"driver"}',
              '--window-size=1600,2000']: opts.add_argument(f)     # the network past localhost is unreachable
    opts.binary_location = CHROMIUM
    return webdriver.Chrome(service=Service(DRIVER), options=opts)

def _marks(driver)->list:
    "What the live heatmap draws: the aria labels of its marks (each names its cell's fields and values)."
    from selenium.webdriver.common.by import By
    return sorted(e.get_attribute('aria-label') or '' for e in
                  driver.find_elements(By.CSS_SELECTOR, '.stitch-heatmap svg [aria-roledescription="rect mark"]'))

def _changes(driver, before, timeout=90)->list:
    "The heatmap's marks once they differ from `before` (the kernel redraws it)."
    from selenium.webdriver.support.ui import WebDriverWait
    WebDriverWait(driver, timeout, 0.5).until(lambda d: (m := _marks(d)) and m != before)
    return _marks(driver)

def test_the_app_redraws_on_two_widgets_and_shows_a_clicked_job(app, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait
    driver = _driver(tmp_path)
    try:
        driver.get(app)
        WebDriverWait(driver, 180, 1).until(_marks)
        first = _marks(driver)
        assert len(first) == 4 and all('adapter: linear' in m and 'test accuracy: ' in m for m in first), first
        Select(driver.find_element(By.CSS_SELECTOR, '.stitch-adapters select')).select_by_visible_text('conv3x3')
        only = _changes(driver, first)                       # the kernel redrew the chart with other data
        assert len(only) == 4 and all('adapter: conv3x3' in m for m in only), only
        Select(driver.find_element(By.CSS_SELECTOR, '.stitch-metric select')).select_by_visible_text('penalty')
        penalty = _changes(driver, only)
        assert all('penalty: ' in m and 'test accuracy' not in m for m in penalty), penalty
        driver.find_element(By.CSS_SELECTOR, '.stitch-heatmap svg [aria-roledescription="rect mark"]').click()
        config = lambda d: d.find_element(By.CSS_SELECTOR, '.stitch-config').text
        WebDriverWait(driver, 60, 0.5).until(lambda d: 'adapter: conv3x3' in config(d))
        assert 'first_deleted_block: 1' in config(driver)
        assert not driver.find_elements(By.CSS_SELECTOR, '.jp-OutputArea-output pre.error, .voila-error')
    finally: driver.quit()
