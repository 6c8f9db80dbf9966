"""The instructor dashboard (OUTDIR/dashboard/), opened from the disk by a real headless browser: Debian's
chromium driven by Playwright. Every link of every page is followed; every page must load without a
script or console error, show its title, and the content it is for (class numbers, heatmap cells with
whole-student counts, the loss curves, the "could not grade" list, each student's report and graph).

Locally the browser test skips when chromium or Playwright is missing; CI installs both (Makefile).
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from grader.batch.dashboard import graph_svg
from grader.cli import main

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Path:
    """alice correct, bob two bugs, erin not started, frank two bugs, carol one file, empty: could not grade."""
    klass = tmp_path_factory.mktemp("class")
    for name in ("alice", "bob", "erin", "frank"):
        shutil.copytree(ROOT / "examples" / name, klass / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "examples" / "carol.py", klass / "carol.py")
    (klass / "empty").mkdir()
    (klass / "mallory<img src=x onerror=alert(1)>").mkdir()
    out = tmp_path_factory.mktemp("out")
    assert main(["grade", str(klass), "--out", str(out), "-j", "2"]) == 0
    return out


def test_the_dashboard_is_one_static_folder(graded):
    folder = graded / "dashboard"
    pages = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html"))
    assert "index.html" in pages
    assert {f"students/{s}.html" for s in ("alice", "bob", "carol", "empty", "erin", "frank")} <= set(pages)
    for page in folder.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in text and "<img src=x" not in text


def test_the_summary_links_to_html_pages_and_lists_what_could_not_be_graded(graded):
    summary = (graded / "summary.html").read_text(encoding="utf-8")
    assert "report.md" not in summary
    assert 'id="could-not-grade"' in summary and 'href="dashboard/students/empty.html"' in summary
    # erin did not start: she is no line of the diagnoses, and built-on-broken lines are gone.
    diagnoses = summary.split("<h2>Most common diagnoses</h2>")[1].split("</ul>")[0]
    assert "erin" not in diagnoses and "built_on_broken" not in diagnoses and "bob" in diagnoses


def test_the_graph_picture_marks_the_first_wrong_node():
    svg = graph_svg({"leaves": [1.5, -2.0], "nodes": [["mul", {"leaf": 0}, {"leaf": 1}], ["add", {"node": 0},
                                                                                          {"const": 1.0}]],
                     "data": [-3.0, -2.0], "leaf_grads": [-2.0, 1.5], "node_grads": [1.0, 1.0],
                     "first_wrong": ["node", 0]})
    assert svg.startswith("<svg") and svg.count("<rect") == 4 and svg.count("<line") == 3
    assert re.search(r'<g class="wrong"><rect [^>]*fill="#f66"', svg) and ">mul<" in svg and ">add (1)<" in svg


def browser():
    if not Path(CHROMIUM).is_file():
        pytest.skip("chromium is not installed (apt-get install -y chromium; CI installs it)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e .[test])")
    return sync_api


def test_every_page_and_link_renders_in_a_real_browser(graded):
    sync_api = browser()
    folder = graded / "dashboard"
    start = (folder / "index.html").as_uri()
    seen: dict[str, str] = {}
    problems: list[str] = []
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = chromium.new_page()
        page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("dialog", lambda dialog: problems.append(f"dialog: {dialog.message}"))
        queue = [start]
        while queue:
            url = queue.pop()
            if url in seen:
                continue
            response = page.goto(url)
            assert response is None or response.ok, url
            heading = page.locator("h1").inner_text()
            assert heading.strip(), f"{url} has no title"
            seen[url] = heading
            check_page(page, url, folder)
            for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)"):
                target = href.split("#")[0]
                assert target.startswith("file://"), f"{url} links outside the folder: {href}"
                assert Path(unquote(urlparse(target).path)).is_file(), f"{url}: broken link {href}"
                if target.endswith(".html") and target not in seen:
                    queue.append(target)
        chromium.close()
    assert problems == []
    pages = {Path(unquote(urlparse(u).path)).relative_to(folder).as_posix() for u in seen}
    assert {"index.html", "students/bob.html", "students/empty.html"} <= pages
    assert any(p.startswith("cells/") for p in pages), "the heatmap cells are links"


def check_page(page, url: str, folder: Path) -> None:
    """What each kind of page must show once rendered."""
    relative = Path(unquote(urlparse(url).path)).relative_to(folder).as_posix()
    text = page.locator("body").inner_text()
    if relative == "index.html":
        assert "Class numbers" in text and re.search(r"students\s+7", text)
        assert re.search(r"could not grade\s+2", text)
        cells = page.eval_on_selector_all("table.heatmap td.heat a", "cells => cells.map(c => c.textContent)")
        assert cells and all(re.fullmatch(r"[1-9]\d*", c) for c in cells), "whole students per cell"
        assert page.locator("svg.curves polyline.reference").count() == 1
        assert page.locator("svg.curves polyline.student").count() >= 3
        assert page.locator("svg.curves").bounding_box()["width"] > 100
        assert page.locator("ul.errors li").count() == 2 and "mallory<img" in text
        for image in page.eval_on_selector_all("img", "images => images.map(i => i.naturalWidth)"):
            assert image > 0, "a plot did not load"
    elif relative.startswith("cells/"):
        assert page.locator("ul li a").count() >= 1
    elif relative.startswith("students/"):
        assert re.search(r"Score: [\d.]+ / 100", text)
        student = relative.removeprefix("students/").removesuffix(".html")
        if student in ("bob", "frank"):
            assert "Failing checks" in text and page.locator("table.parts tr").count() == 13
            if page.locator("svg.graph").count():
                assert page.locator("svg.graph g.wrong").count() >= 1
        if student == "empty":
            assert "Could not grade" in text


def test_count_axes_have_whole_student_ticks():
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    from grader.batch.summary import whole_students

    fig, ax = plt.subplots()
    ax.hist([10, 50, 50, 90], bins=20, range=(0, 100))
    whole_students(ax)
    fig.canvas.draw()
    ticks = [t for t in ax.get_yticks() if 0 <= t <= ax.get_ylim()[1]]
    plt.close(fig)
    assert ticks and all(float(t).is_integer() for t in ticks)


def test_pass_rates_count_only_students_who_started():
    from grader.assignment import load_assignment
    from grader.batch.summary import pass_rates

    assignment = load_assignment()
    passed = {"status": "graded", "parts": [{"id": p.id, "status": "passed"} for p in assignment.parts]}
    untouched = {"status": "graded", "parts": [{"id": p.id, "status": "not started" if p.id in assignment.stubs
                                                else "failed"} for p in assignment.parts]}
    rates = pass_rates({"alice": passed, "erin": untouched}, assignment)
    assert rates["add"] == 1.0, "erin did not start: she is not a graded student who fails add"


def test_one_students_huge_losses_are_that_students_and_not_the_class_plots_scale():
    """A train() returning 1e300 losses is drawn at the plot's top edge and said so; the others' curves keep
    the scale the reference sets."""
    from types import SimpleNamespace

    from grader.batch.dashboard import loss_curves

    reference = [1.0, 0.6, 0.3, 0.2]
    reports = {"alice": {"curves": {"student": [1.0, 0.5, 0.3, 0.1], "reference": reference}},
               "mallory": {"curves": {"student": [1e300, 1e300, 1e300, 1e300], "reference": reference}}}
    table = [SimpleNamespace(student=name, status="graded") for name in reports]
    caption, svg = loss_curves(table, reports)
    assert "loss (max 3)" in svg and "1 of them go above the plot's top" in caption
    heights = [float(y) for points in re.findall(r'class="student"[^>]*points="([^"]+)"', svg)
               for y in re.findall(r",([-\d.]+)", points)]
    alone_caption, alone_svg = loss_curves(table[:1], {"alice": reports["alice"]})
    assert "above" not in alone_caption
    assert re.findall(r'class="student"[^>]*points="([^"]+)"', alone_svg)[0] in svg  # alice is drawn as alone
    assert min(heights) >= 0  # mallory's curve stays inside the picture
