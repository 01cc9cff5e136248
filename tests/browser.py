"""Open a page in headless Chromium over the DevTools protocol: screenshots, console errors, network requests,
script evaluation (DevTools' own, which the page's CSP does not block) and key presses."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-port=0", "--hide-scrollbars"]

#: DevTools key descriptions for Input.dispatchKeyEvent.
KEYS = {"PageDown": {"key": "PageDown", "code": "PageDown", "windowsVirtualKeyCode": 34},
        "PageUp": {"key": "PageUp", "code": "PageUp", "windowsVirtualKeyCode": 33},
        "ArrowDown": {"key": "ArrowDown", "code": "ArrowDown", "windowsVirtualKeyCode": 40},
        "Space": {"key": " ", "code": "Space", "windowsVirtualKeyCode": 32, "text": " "}}


@dataclass
class PageVisit:
    screenshot: bytes
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for, but itself and data: URIs


class Page:
    """A loaded page in one tab: ``call`` any DevTools method; ``events`` keeps every event seen so far."""

    def __init__(self, ws, url: str, timeout: float):
        self.ws, self.url, self.timeout = ws, url, timeout
        self.events: list[dict] = []
        self._ids = iter(range(1, 1_000_000))
        self.session = None

    def call(self, method, **params):
        msg_id = next(self._ids)
        msg = {"id": msg_id, "method": method, "params": params}
        if self.session:
            msg["sessionId"] = self.session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def evaluate(self, expression: str):
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}...: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self) -> bytes:
        return base64.b64decode(self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"])

    def key(self, name: str, settle: float = 1.0) -> None:
        """Press and release a key, then wait for scrolling (smooth or snapped) to settle."""
        desc = KEYS[name]
        self.call("Input.dispatchKeyEvent", type="keyDown", **desc)
        self.call("Input.dispatchKeyEvent", type="keyUp", **{k: v for k, v in desc.items() if k != "text"})
        self.wait_still(settle)

    def wait_still(self, settle: float = 1.0) -> None:
        """Wait until window.scrollY has not changed for ``settle`` seconds."""
        last, since, deadline = None, time.time(), time.time() + self.timeout
        while time.time() < deadline:
            y = self.evaluate("window.scrollY")
            if y != last:
                last, since = y, time.time()
            elif time.time() - since >= settle:
                return
            time.sleep(0.1)

    def visit(self) -> PageVisit:
        visit = PageVisit(self.screenshot())
        for e in self.events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if url.split("#")[0] != self.url.split("#")[0] and not url.startswith("data:"):
                    visit.requests.append(url)
            elif method == "Runtime.exceptionThrown":
                visit.console_errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                visit.console_errors.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                visit.console_errors.append(params["entry"].get("text", ""))
        return visit


@contextlib.contextmanager
def open_page(path: Path, width: int = 1200, height: int = 900, timeout: float = 60.0, fragment: str = ""):
    """Yield a :class:`Page` with ``path`` loaded in a ``width``×``height`` viewport."""
    import websocket

    profile = tempfile.mkdtemp(prefix="styleseg-chromium-")
    proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--window-size={width},{height}", f"--user-data-dir={profile}",
                             "about:blank"], stderr=subprocess.PIPE, text=True)
    try:
        ws = websocket.create_connection(_devtools_url(proc, timeout), timeout=timeout)
        page = Page(ws, path.resolve().as_uri() + fragment, timeout)
        target = page.call("Target.createTarget", url="about:blank")["targetId"]
        page.session = page.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            page.call(f"{domain}.enable")
        page.call("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        page.call("Page.navigate", url=page.url)
        deadline = time.time() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in page.events):
            if time.time() > deadline:
                raise TimeoutError(f"{page.url} did not finish loading in {timeout} s")
            page.events.append(json.loads(ws.recv()))
        time.sleep(0.5)  # let late requests and console messages arrive
        yield page
        ws.close()
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


def visit(path: Path, timeout: float = 60.0) -> PageVisit:
    """Load ``path`` at 1200×900: its screenshot, console errors and network requests."""
    with open_page(path, timeout=timeout) as page:
        return page.visit()


def _devtools_url(proc: subprocess.Popen, timeout: float) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        line = proc.stderr.readline()
        m = re.search(r"DevTools listening on (ws://\S+)", line)
        if m:
            return m.group(1)
        if not line and proc.poll() is not None:
            break
    raise RuntimeError("headless Chromium did not start (no DevTools URL)")
