"""Open a page in headless Chromium over the DevTools protocol: screenshot, console errors, network requests."""

from __future__ import annotations

import base64
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
         "--remote-debugging-port=0", "--window-size=1200,900"]


@dataclass
class PageVisit:
    screenshot: bytes
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)  # every URL the page asked for, but itself and data: URIs


def visit(path: Path, timeout: float = 60.0) -> PageVisit:
    import websocket

    profile = tempfile.mkdtemp(prefix="styleseg-chromium-")
    proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stderr=subprocess.PIPE, text=True)
    try:
        ws_url = _devtools_url(proc, timeout)
        ws = websocket.create_connection(ws_url, timeout=timeout)
        ids = iter(range(1, 10_000))
        events: list[dict] = []

        def call(method, session=None, **params):
            msg_id = next(ids)
            msg = {"id": msg_id, "method": method, "params": params}
            if session:
                msg["sessionId"] = session
            ws.send(json.dumps(msg))
            while True:
                reply = json.loads(ws.recv())
                if reply.get("id") == msg_id:
                    if "error" in reply:
                        raise RuntimeError(f"{method}: {reply['error']}")
                    return reply.get("result", {})
                events.append(reply)

        target = call("Target.createTarget", url="about:blank")["targetId"]
        session = call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            call(f"{domain}.enable", session)
        page_url = path.resolve().as_uri()
        call("Page.navigate", session, url=page_url)
        deadline = time.time() + timeout
        while not any(e.get("method") == "Page.loadEventFired" for e in events):
            if time.time() > deadline:
                raise TimeoutError(f"{page_url} did not finish loading in {timeout} s")
            events.append(json.loads(ws.recv()))
        time.sleep(0.5)  # let late requests and console messages arrive
        shot = call("Page.captureScreenshot", session, format="png", captureBeyondViewport=False)
        visit = PageVisit(base64.b64decode(shot["data"]))
        for e in events:
            method, params = e.get("method"), e.get("params", {})
            if method == "Network.requestWillBeSent":
                url = params["request"]["url"]
                if url != page_url and not url.startswith("data:"):
                    visit.requests.append(url)
            elif method == "Runtime.exceptionThrown":
                visit.console_errors.append(params["exceptionDetails"].get("text", "exception"))
            elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
                visit.console_errors.append(" ".join(str(a.get("value")) for a in params.get("args", [])))
            elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
                visit.console_errors.append(params["entry"].get("text", ""))
        ws.close()
        return visit
    finally:
        proc.kill()
        proc.wait()
        shutil.rmtree(profile, ignore_errors=True)


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
