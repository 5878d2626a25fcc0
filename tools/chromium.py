"""Headless Chromium over the DevTools protocol, for tests: open a page, collect its console errors, run JavaScript in
it and take a screenshot. Needs Debian's `chromium` and tornado (which Jupyter brings); no Selenium, no driver."""
import asyncio, base64, itertools, json, shutil, subprocess, tempfile, time, urllib.request
from pathlib import Path
from tornado.websocket import websocket_connect

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-sync',
         '--disable-background-networking', '--disable-component-update', '--hide-scrollbars', '--mute-audio']

class Page:
    "One DevTools session on a tab: `call` a protocol method, and keep the console errors the page reports."
    def __init__(self, ws): self.ws, self.ids, self.errors, self.loaded = ws, itertools.count(1), [], False

    def _event(self, m:dict):
        p = m.get('params', {})
        if m.get('method') == 'Page.loadEventFired': self.loaded = True
        elif m.get('method') == 'Runtime.exceptionThrown':
            d = p['exceptionDetails']
            self.errors.append(d.get('exception', {}).get('description') or d.get('text'))
        elif m.get('method') == 'Runtime.consoleAPICalled' and p.get('type') in ('error', 'assert'):
            self.errors.append(' '.join(str(a.get('value', a.get('description'))) for a in p.get('args', [])))
        elif m.get('method') == 'Log.entryAdded' and p['entry'].get('level') == 'error':
            self.errors.append(f"{p['entry'].get('text')} {p['entry'].get('url', '')}".strip())

    async def _read(self) -> dict:
        msg = await self.ws.read_message()
        if msg is None: raise ConnectionError('Chromium closed the DevTools connection')
        return json.loads(msg)

    async def call(self, method:str, **params) -> dict:
        "Send one protocol command and return its result, handling the events that arrive meanwhile."
        i = next(self.ids)
        await self.ws.write_message(json.dumps(dict(id=i, method=method, params=params)))
        while (m := await self._read()).get('id') != i: self._event(m)
        if 'error' in m: raise RuntimeError(f"{method}: {m['error']}")
        return m.get('result', {})

    async def js(self, expression:str):
        "The value of a JavaScript expression in the page (promises awaited)."
        r = await self.call('Runtime.evaluate', expression=expression, returnByValue=True, awaitPromise=True)
        if 'exceptionDetails' in r: raise RuntimeError(f"{expression!r}: {r['exceptionDetails']}")
        return r['result'].get('value')

    async def pump(self, seconds:float):
        "Handle the page's events for a while."
        try: await asyncio.wait_for(self._drain(), seconds)
        except asyncio.TimeoutError: pass

    async def _drain(self):
        while True: self._event(await self._read())

class Chromium:
    "A headless Chromium process; `visit` loads a page in a fresh tab. Use as a context manager."
    def __init__(self, width:int=1400, height:int=1800):
        if not CHROMIUM: raise RuntimeError("needs Debian's chromium (apt-get install chromium)")
        self.size, self.dir = (width, height), tempfile.TemporaryDirectory()
        self.proc = subprocess.Popen([CHROMIUM, *FLAGS, '--remote-debugging-port=0', f'--user-data-dir={self.dir.name}',
                                      'about:blank'], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        port, deadline = Path(self.dir.name)/'DevToolsActivePort', time.monotonic() + 60
        while not (port.exists() and port.read_text().strip()):
            if self.proc.poll() is not None or time.monotonic() > deadline: raise RuntimeError('Chromium did not start')
            time.sleep(0.1)
        self.port = int(port.read_text().split()[0])

    def __enter__(self): return self
    def __exit__(self, *exc): self.close()
    def close(self):
        self.proc.terminate()
        try: self.proc.wait(10)
        except subprocess.TimeoutExpired: self.proc.kill(); self.proc.wait()
        self.dir.cleanup()

    def _http(self, path:str, method:str='GET') -> bytes:
        req = urllib.request.Request(f'http://127.0.0.1:{self.port}{path}', method=method)
        with urllib.request.urlopen(req, timeout=30) as r: return r.read()

    def visit(self, url:str, until:str='true', js:str='null', screenshot:Path=None, timeout:float=60) -> tuple:
        "Load `url`, wait for its load event and the JS condition `until`; the page's errors and the value of `js`."
        tab = json.loads(self._http('/json/new?about:blank', 'PUT'))
        try: return asyncio.run(self._visit(tab['webSocketDebuggerUrl'], url, until, js, screenshot, timeout))
        finally: self._http(f"/json/close/{tab['id']}")

    async def _visit(self, ws_url, url, until, js, screenshot, timeout):
        page = Page(await websocket_connect(ws_url, max_message_size=1 << 28))
        try:
            for domain in ('Page', 'Runtime', 'Log'): await page.call(f'{domain}.enable')
            w, h = self.size
            await page.call('Emulation.setDeviceMetricsOverride', width=w, height=h, deviceScaleFactor=1, mobile=False)
            await page.call('Page.navigate', url=url)
            deadline = time.monotonic() + timeout
            while not page.loaded and time.monotonic() < deadline: await page.pump(0.2)
            while not await page.js(until) and time.monotonic() < deadline: await page.pump(0.2)
            await page.pump(0.3)                          # errors reported just after
            value = await page.js(js)
            if screenshot:
                shot = await page.call('Page.captureScreenshot', format='png')
                Path(screenshot).write_bytes(base64.b64decode(shot['data']))
            return page.errors, value
        finally: page.ws.close()
