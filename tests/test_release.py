"""A release as a course makes one and as students install it: the release workflow (actionlint clean, trusted
publishing, its build-and-check job run here as the script it is), both distributions uploaded with twine to a
real package index on loopback (pypiserver) and installed from it into fresh environments, the static index of
`micrograde publish --index` served by an HTTP server, and the generated notebook's first cell, pointed at that
index, installing the student edition under a real Jupyter kernel."""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
import yaml
from nbclient import NotebookClient
from test_install import copy_project, user_env
from test_workflow import actionlint

from grader import __version__
from grader.assignment import load_assignment
from grader.authoring.assignment_docs import install_cell
from grader.paths import REFERENCE_DIR, REPO_DIR

RELEASE_WORKFLOW = REPO_DIR / ".github" / "workflows" / "release.yml"
STUDENT_WHEEL = f"micrograde_student-{__version__}-py3-none-any.whl"
TEMPLATE_SCORE = 15  # what the untouched template earns: the given code that works without any task


# --- the workflow ------------------------------------------------------------------------------------------------


def test_actionlint_accepts_the_release_workflow():
    assert actionlint(RELEASE_WORKFLOW) == []


def test_the_release_publishes_by_trusted_publishing_only_from_a_version_tag():
    text = RELEASE_WORKFLOW.read_text(encoding="utf-8")
    workflow = yaml.safe_load(text)
    assert workflow[True]["push"] == {"tags": ["v*"]}  # YAML reads the key `on` as true
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert "bash .ci/release-check dist" in [step.get("run") for step in jobs["build"]["steps"]]
    publish = [step for step in jobs["pypi"]["steps"] if step.get("uses", "").startswith("pypa/gh-action-pypi-publish@")]
    assert len(publish) == 1 and "password" not in publish[0].get("with", {})
    # Only the publishing job may ask for an OIDC token, and no job reads a stored secret.
    assert [name for name, job in jobs.items() if job.get("permissions", {}).get("id-token") == "write"] == ["pypi"]
    assert "secrets." not in text
    assert jobs["github-release"]["needs"] == "pypi" and "gh release create" in jobs["github-release"]["steps"][-1]["run"]


# --- the build-and-check job, as a script --------------------------------------------------------------------


def release_check(source: Path, dist: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", str(source / ".ci" / "release-check"), str(dist)], cwd=source, capture_output=True,
                          text=True, timeout=1200, check=False,
                          env=user_env(PYTHON=sys.executable, BUILD_ISOLATION="no", PYTHONPATH=str(source)))


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """Both distributions as the release workflow builds and checks them, from a copy of the project."""
    source = copy_project(tmp_path_factory.mktemp("release") / "micrograde")
    out = source.parent / "dist"
    done = release_check(source, out)
    assert done.returncode == 0, done.stdout + done.stderr
    for name in (f"micrograde-{__version__}-py3-none-any.whl", STUDENT_WHEEL):
        assert f"{name[:-len('.whl')]}: installed in a fresh environment, the reference gets full marks" in done.stdout
    return out


def test_the_release_check_builds_both_distributions_and_the_sdist(dist):
    assert sorted(path.name for path in dist.iterdir()) == sorted(
        [f"micrograde-{__version__}-py3-none-any.whl", f"micrograde-{__version__}.tar.gz", STUDENT_WHEEL])


def test_the_release_check_fails_a_build_whose_reference_is_wrong(tmp_path):
    source = copy_project(tmp_path / "micrograde")
    engine = source / "reference" / "micrograd" / "engine.py"
    text = engine.read_text(encoding="utf-8")
    assert "(1 - t**2) * out.grad" in text
    engine.write_text(text.replace("(1 - t**2) * out.grad", "(1 - t) * out.grad"), encoding="utf-8")
    done = release_check(source, tmp_path / "dist")
    assert done.returncode != 0 and "the reference got" in done.stderr, done.stdout + done.stderr


# --- installing from an index ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(command: list[str], url: str):
    """Run a server until the block ends, once `url` answers."""
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"{command[:4]} did not start: {server.stderr.read().decode()}") from None
                time.sleep(0.2)
        yield
    finally:
        server.terminate()
        server.wait(timeout=30)


def install_from(index: str, tmp_path: Path, requirement: str) -> tuple[Path, dict]:
    """A fresh venv with `requirement` installed from `index` as an extra index (its dependencies from the
    index pip is configured with); returns its bin/ folder and pip's installation report."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    report = tmp_path / "pip-report.json"
    done = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--extra-index-url", index,
                           "--report", str(report), requirement], capture_output=True, text=True, timeout=900,
                          env=user_env(), cwd=tmp_path, check=False)
    assert done.returncode == 0, done.stderr
    return venv / "bin", json.loads(report.read_text(encoding="utf-8"))


def downloaded_from(report: dict, name: str) -> str:
    (item,) = [item for item in report["install"] if item["metadata"]["name"] == name]
    return item["download_info"]["url"]


def scores(bin_dir: Path, tmp_path: Path) -> dict[str, int]:
    """The installed checker's scores of the reference and of the untouched template, from outside the clone."""
    shutil.copytree(REFERENCE_DIR.parent / "reference", tmp_path / "solution")
    shutil.copytree(REPO_DIR / "student_template", tmp_path / "student", ignore=shutil.ignore_patterns(".github"))
    found = {}
    for folder in ("solution", "student"):
        done = subprocess.run([str(bin_dir / "micrograde"), "check", folder, "--format", "json"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=600, env=user_env(), check=False)
        assert done.returncode in (0, 1), done.stderr
        found[folder] = json.loads(done.stdout)["score"]
    return found


def test_twine_uploads_both_wheels_to_a_package_index_on_loopback_and_students_install_from_it(dist, tmp_path):
    packages = tmp_path / "packages"
    packages.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving([sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port), "-a", ".", "-P", ".",
                  "--server", "wsgiref", str(packages)], f"{url}/simple/"):
        upload = subprocess.run([sys.executable, "-m", "twine", "upload", "--non-interactive", "--disable-progress-bar",
                                 "--repository-url", f"{url}/", "-u", "course", "-p", "unused",
                                 *map(str, sorted(dist.glob("*.whl")))],
                                capture_output=True, text=True, timeout=300, check=False, env=user_env())
        assert upload.returncode == 0, upload.stdout + upload.stderr
        assert sorted(path.name for path in packages.iterdir()) == sorted(path.name for path in dist.glob("*.whl"))
        bin_dir, report = install_from(f"{url}/simple/", tmp_path, f"micrograde-student=={__version__}")
    assert downloaded_from(report, "micrograde-student").startswith(f"{url}/packages/{STUDENT_WHEEL}")
    assert scores(bin_dir, tmp_path) == {"solution": 100, "student": TEMPLATE_SCORE}


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """`micrograde publish --index` served by a static HTTP server on loopback; yields its URL."""
    index = tmp_path_factory.mktemp("site") / "simple"
    done = subprocess.run([sys.executable, "-m", "grader", "publish", "--index", str(index)], cwd=REPO_DIR,
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stderr
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    with serving([sys.executable, "-m", "http.server", "--bind", "127.0.0.1", "--directory", str(index), str(port)],
                 url):
        yield url


def test_the_published_index_is_a_simple_index_with_each_wheels_sha256(published):
    url = published
    page = urllib.request.urlopen(f"{url}micrograde-student/", timeout=30).read().decode()
    (link,) = re.findall(r'href="([^"]+)"', page)
    name, digest = link.split("#sha256=")
    assert name == STUDENT_WHEEL
    wheel = urllib.request.urlopen(f"{url}micrograde-student/{name}", timeout=30).read()
    assert hashlib.sha256(wheel).hexdigest() == digest
    assert 'href="micrograde-student/"' in urllib.request.urlopen(url, timeout=30).read().decode()


def test_students_install_the_edition_from_the_published_index(published, tmp_path):
    url = published
    bin_dir, report = install_from(url, tmp_path, f"micrograde-student=={__version__}")
    assert downloaded_from(report, "micrograde-student") == f"{url}micrograde-student/{STUDENT_WHEEL}"
    assert scores(bin_dir, tmp_path) == {"solution": 100, "student": TEMPLATE_SCORE}


def test_publish_refuses_what_is_not_a_wheel_in_one_line(tmp_path):
    (tmp_path / "notes.txt").write_text("x", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "grader", "publish", "--index", str(tmp_path / "index"), "--wheel",
                           str(tmp_path / "notes.txt")], cwd=REPO_DIR, capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and "not a wheel" in done.stderr
    assert not (tmp_path / "index").exists()


def test_the_notebooks_first_cell_installs_the_student_edition_from_the_courses_index(published, tmp_path):
    """A kernel whose Python has ipykernel but no grader: the first cell, generated for an assignment whose
    `student_index` is the published index, installs the edition, and `micrograde.check()` grades the engine
    the next cells define."""
    url = published
    toml = (REPO_DIR / "assignments" / "micrograd" / "assignment.toml").read_text(encoding="utf-8")
    course = tmp_path / "course" / "assignments" / "micrograd"
    course.mkdir(parents=True)
    (course / "assignment.toml").write_text(toml.replace("\nhidden = ", f'\nstudent_index = "{url}"\nhidden = ', 1),
                                            encoding="utf-8")
    cell = install_cell(load_assignment(course / "assignment.toml"))
    assert cell == f'%pip install --quiet --extra-index-url {url} "micrograde-student=={__version__}"'

    venv = tmp_path / "kernel-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    installed = subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "ipykernel==7.4.0"],
                               capture_output=True, text=True, timeout=900, env=user_env(), check=False)
    assert installed.returncode == 0, installed.stderr
    kernels = tmp_path / "jupyter" / "kernels" / "course"
    kernels.mkdir(parents=True)
    (kernels / "kernel.json").write_text(json.dumps({
        "argv": [str(venv / "bin" / "python"), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "course", "language": "python"}), encoding="utf-8")

    engine = (REFERENCE_DIR / "micrograd" / "engine.py").read_text(encoding="utf-8")
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import importlib.util\nassert importlib.util.find_spec('grader') is None"),
        nbformat.v4.new_code_cell(cell),
        nbformat.v4.new_code_cell(engine.replace("from __future__ import annotations", "")),
        nbformat.v4.new_code_cell('import micrograde\nreport = micrograde.check("add", "mul", "tanh")\n'
                                  "print(report.score, report.max_score)"),
    ])
    previous = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = str(tmp_path / "jupyter")
    try:
        NotebookClient(notebook, timeout=900, kernel_name="course",
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    finally:
        if previous is None:
            os.environ.pop("JUPYTER_PATH")
        else:
            os.environ["JUPYTER_PATH"] = previous
    printed = "".join(out.get("text", "") for out in notebook.cells[-1].outputs if out.output_type == "stream")
    score, max_score = printed.split()[-2:]
    assert float(score) == float(max_score) > 0, notebook.cells[-1].outputs
