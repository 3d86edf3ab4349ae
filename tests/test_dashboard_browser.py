"""End to end in a real browser: `simple-game dashboard` on a loopback port, driven in Debian's Chromium.

Playwright drives the system's Chromium (``/usr/bin/chromium``, Debian package ``chromium``;
no browser download) headless, without sandbox and background networking. Every page is
opened, two runs are picked, and the curve and the config diff must render. Screenshots are
saved to the test's tmp_path; scripts/dashboard_screenshots.py takes the README's with the
same helpers (:func:`serve_dashboard`, :func:`capture_pages`).
"""

from __future__ import annotations

import io
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote_plus

import pytest

from test_dashboard_data import REPO, STUDY, Sample, _env, shared_sample, tree_state

pytestmark = pytest.mark.slow  # real trainings, a sweep and a collection (once per session)
CHROMIUM = Path("/usr/bin/chromium")
PAGES = {  # sidebar label -> screenshot name
    "Training curves": "curves",
    "Videos": "videos",
    "Compare runs": "compare",
    "Ablations": "ablations",
    "Config diff": "config_diff",
    "Datasets": "datasets",
    "Sweeps": "sweeps",
}
TIMEOUT_MS = 60_000


def free_port() -> int:
    """A port nobody listens on now (bound to 0 and released; the server takes it right after)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def serve_dashboard(runs: Path, data: Path, startup_s: float = 90) -> Iterator[str]:
    """``python -m simple_game.cli.dashboard`` on a free loopback port; yields its URL, stops it after."""
    port = free_port()
    cmd = [sys.executable, "-m", "simple_game.cli.dashboard", "--runs", str(runs), "--data", str(data)]
    cmd += ["--port", str(port), "--host", "127.0.0.1"]
    proc = subprocess.Popen(
        cmd, cwd=REPO, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_s
        while True:
            if proc.poll() is not None:
                raise AssertionError(f"dashboard exited {proc.returncode}: {proc.stdout.read().decode()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError(f"dashboard did not answer on {url} within {startup_s:.0f}s")
            time.sleep(0.3)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)  # its own session: the server and anything it started
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def launch(playwright):
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-background-networking"]
    )


READY = {  # what shows that a page has drawn (Streamlit renders after the script has run)
    "curves": '[data-testid="stVegaLiteChart"] svg.marks',
    "videos": '[data-testid="stMetricValue"]',
    "compare": '[data-testid="stVegaLiteChart"] svg.marks',
    "ablations": '[data-testid="stVegaLiteChart"] svg.marks, [data-testid="stAlert"]',
    "config_diff": '[data-testid="stTable"]',
    "datasets": '[data-testid="stImage"] img',
    "sweeps": '[data-testid="stTable"], [data-testid="stAlert"]',
}


def wait_until(check, what: str, timeout_s: float = TIMEOUT_MS / 1000) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def settle(page) -> None:
    """Wait until Streamlit has run the script and nothing on the page is stale (left from the run before)."""
    page.wait_for_timeout(300)
    page.locator('[data-test-script-state="notRunning"]').wait_for(timeout=TIMEOUT_MS)
    page.wait_for_function("() => !document.querySelector('[data-stale=\"true\"]')", timeout=TIMEOUT_MS)


def open_page(page, url: str, label: str) -> None:
    """Load ``label`` (the address names the page) and wait until it has drawn."""
    page.goto(f"{url}/?page={quote_plus(label)}")
    page.get_by_role("heading", name=label).wait_for(timeout=TIMEOUT_MS)
    settle(page)
    page.locator('[data-testid="stSidebar"] [role="radiogroup"]').wait_for(timeout=TIMEOUT_MS)
    page.locator(READY[PAGES[label]]).first.wait_for(timeout=TIMEOUT_MS)
    assert page.locator('[data-testid="stException"]').count() == 0, page.locator("body").inner_text()[:2000]


def pick_runs(page, names: list[str]) -> None:
    """On the page's first run multiselect: clear it, then pick ``names`` by typing each one."""
    box = page.locator('[data-testid="stMultiSelect"]').first
    tags = box.locator("[data-tag]")
    box.get_by_role("button", name="Clear all").click()
    wait_until(lambda: tags.count() == 0, "the run picker to clear")
    settle(page)
    for name in names:
        box.locator("input").first.click()
        box.locator("input").first.fill(name)
        page.get_by_role("option", name=name, exact=True).click()
        box.locator(f'[data-tag][aria-label="{name}"]').wait_for(timeout=TIMEOUT_MS)
        settle(page)
    page.keyboard.press("Escape")
    wait_until(lambda: tags.count() == len(names), f"{len(names)} runs picked")
    settle(page)


def choose(page, label: str, option: str) -> None:
    """A selectbox by its label: open it, type the option, click it."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.locator("input").first.click()
    box.locator("input").first.fill(option)
    page.get_by_role("option", name=option, exact=True).click()
    settle(page)
    shown = box.locator("input").first
    wait_until(lambda: option in (box.inner_text() + shown.input_value()), f"{option} picked as {label}")


def chart_colours(page) -> int:
    """How many colours the first chart's pixels hold: a blank or failed chart has a handful."""
    from PIL import Image

    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.locator("svg.marks").first.wait_for(timeout=TIMEOUT_MS)
    image = Image.open(io.BytesIO(chart.screenshot())).convert("RGB")
    return len(set(image.get_flattened_data()))


def check_curves(page, pair: tuple[str, str]) -> None:
    """Pick the two runs; the chart must show both, drawn."""
    pick_runs(page, list(pair))
    chart = page.locator('[data-testid="stVegaLiteChart"] svg.marks').first
    wait_until(lambda: all(n in (chart.text_content() or "") for n in pair), "both runs in the legend")
    assert chart.locator(".mark-line path, .mark-symbol path").count() >= 2, "no curve drawn"
    assert chart_colours(page) > 20, "the training curve did not render"


def check_config_diff(page, pair: tuple[str, str], out: Path) -> Path:
    """Pick the two runs; the diff table must name both. Returns the table's text, saved in ``out``."""
    choose(page, "First run", pair[0])
    choose(page, "Second run", pair[1])
    table = page.locator('[data-testid="stTable"]').first
    wait_until(lambda: pair[0] in table.inner_text() and pair[1] in table.inner_text(), "the config diff")
    (out / "diff_text.txt").write_text(table.inner_text())
    return out / "diff_text.txt"


def capture_pages(url: str, out: Path, pair: tuple[str, str], size: tuple[int, int] = (1400, 900)) -> dict[str, Path]:
    """Open every page, pick ``pair`` on the curves and config diff pages; a PNG of each page in ``out``.

    Returns the screenshot of each page by name, plus ``diff_text`` (the config diff as shown).
    """
    from playwright.sync_api import sync_playwright

    shots: dict[str, Path] = {}
    with sync_playwright() as playwright:
        browser = launch(playwright)
        page = browser.new_page(viewport={"width": size[0], "height": size[1]})
        for label, name in PAGES.items():
            open_page(page, url, label)
            if name == "curves":
                check_curves(page, pair)
            if name == "config_diff":
                shots["diff_text"] = check_config_diff(page, pair, out)
            shots[name] = out / f"dashboard_{name}.png"
            page.screenshot(path=str(shots[name]), full_page=True)
        browser.close()
    return shots


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    return shared_sample(tmp_path_factory)


def test_every_page_in_chromium(sample: Sample, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (apt-get install chromium)")
    pytest.importorskip("playwright.sync_api")
    before = tree_state(sample.runs, sample.data)
    pair = (sample.run(f"{STUDY}_base_seed0").name, sample.run(f"{STUDY}_epochs2_seed0").name)
    with serve_dashboard(sample.runs, sample.data) as url:
        shots = capture_pages(url, tmp_path, pair)
    assert sorted(p.name for p in tmp_path.glob("dashboard_*.png")) == sorted(
        f"dashboard_{n}.png" for n in PAGES.values()
    )
    diff = shots["diff_text"].read_text()
    assert "hyperparams.n_epochs" in diff and pair[0] in diff and pair[1] in diff
    assert "env.game" not in diff  # only the keys that differ
    assert tree_state(sample.runs, sample.data) == before
