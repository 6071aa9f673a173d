"""What a user installs: the built wheel and sdist (twine's check, what the wheel holds), and the
first run from that wheel as a normal user -- a fresh virtual environment of Debian's own
python3 with no test extras, `nobody` running `trtcdetect demo` and a full diagnosis.

CI runs as root: the runs drop to `nobody` with setpriv. The full diagnosis dials Tencent's
names and Chromium's, so it runs in a network namespace of its own with nothing but loopback
(the safety rule); its network probes fail there, which is what they should say.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import ROOT
from tests.unprivileged import NOBODY

SYSTEM_PYTHON = Path("/usr/bin/python3")

pytestmark = pytest.mark.lab


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    # a copy without the working tree's build leftovers: what a clean clone builds
    src = out / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".venv", ".git", "build", "*.egg-info", "__pycache__", "reports", ".mypy_cache",
        ".ruff_cache", ".pytest_cache"))
    subprocess.run([sys.executable, "-m", "build", "--sdist", "--wheel", "--outdir", str(out),
                    str(src)], check=True, capture_output=True, timeout=300)
    return out


def _one(dist: Path, pattern: str) -> Path:
    found = sorted(dist.glob(pattern))
    assert len(found) == 1, found
    return found[0]


def test_twine_accepts_the_wheel_and_the_sdist(dist: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "twine", "check", "--strict",
                           str(_one(dist, "*.whl")), str(_one(dist, "*.tar.gz"))],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_wheel_holds_the_package_data_and_nothing_of_the_lab(dist: Path) -> None:
    names = zipfile.ZipFile(_one(dist, "*.whl")).namelist()
    for wanted in ("trtcdetect/report/templates/report.html.j2", "trtcdetect/report/schema.json",
                   "trtcdetect/probes/ports.html.j2", "trtcdetect/report/templates/repeat.html.j2",
                   "trtcdetect/browser/static/trtc.html", "trtcdetect/browser/static/webrtc.html",
                   "trtcdetect/browser/static/vendor/MANIFEST.json",
                   "trtcdetect/browser/static/vendor/trtc.js",
                   "trtcdetect/browser/static/vendor/rtc-detect.js", "trtcdetect/py.typed",
                   "trtcdetect/check/static/check.html", "trtcdetect/check/static/check.js",
                   "trtcdetect/check/static/check.css"):
        assert wanted in names, wanted
    manifest = json.loads(zipfile.ZipFile(_one(dist, "*.whl")).read(
        "trtcdetect/browser/static/vendor/MANIFEST.json"))
    assert manifest, "the vendored files' manifest is empty"
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", ".ci/", "contrib/",
                                                  "scripts/", "reports/"))]
    assert any(n.endswith(".dist-info/entry_points.txt") for n in names)


def test_the_sdist_holds_the_sources_and_no_virtual_environment(dist: Path) -> None:
    with tarfile.open(_one(dist, "*.tar.gz")) as sdist:
        names = sdist.getnames()
    top = names[0].split("/")[0]
    assert f"{top}/README.md" in names and f"{top}/trtcdetect/report/schema.json" in names
    assert not [n for n in names if "/.venv/" in n or "/.git/" in n]


@pytest.fixture(scope="module")
def user_install(dist: Path) -> Iterator[Path]:
    """The wheel in a fresh venv of Debian's python3 (a folder `nobody` can read), no extras."""
    if os.geteuid() != 0 or not SYSTEM_PYTHON.exists() or shutil.which("setpriv") is None:
        pytest.skip("needs root, Debian's python3 and setpriv to run as another user")
    folder = Path(tempfile.mkdtemp(prefix="trtcdetect-user-"))
    try:
        folder.chmod(0o755)
        venv = folder / "venv"
        subprocess.run([str(SYSTEM_PYTHON), "-m", "venv", str(venv)], check=True, timeout=120)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(_one(dist, "*.whl"))],
                       check=True, capture_output=True, timeout=600)
        yield venv
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _as_nobody(command: list[str], home: Path, netns: str | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "TMPDIR": str(home / "tmp")}
    drop = ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]
    prefix = ["ip", "netns", "exec", netns] if netns else []
    return subprocess.run([*prefix, *drop, *command], cwd=home, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture()
def home() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="trtcdetect-home-"))
    (folder / "tmp").mkdir()
    for path in (folder, folder / "tmp"):
        os.chown(path, NOBODY, NOBODY)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_normal_user_runs_the_demo_from_the_wheel(user_install: Path, home: Path) -> None:
    proc = _as_nobody([str(user_install / "bin" / "trtcdetect"), "demo", "--output", "out"],
                      home)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    document = json.loads(next((home / "out").glob("*.json")).read_text())
    moved = {(m["protocol"], m["port"]): m["moved_to"]
             for m in document["config"]["demo_ports_moved"]}
    assert moved == {("udp", 843): 10843, ("udp", 443): 10443, ("tcp", 443): 10443}
    assert document["target"]["udp_ports"] == [8000, 8080, 8800, 10843, 10443, 16285]
    html = next((home / "out").glob("*.html")).read_text()
    assert "ports below 1024 need root" in html and "UDP 10843 for 843" in html
    statuses = {p["id"]: p["status"] for p in document["probes"]}
    assert statuses["ports"] == statuses["domain"] == statuses["rtp"] == "pass", statuses
    assert not [p for p in document["probes"] if p["status"] == "error"]
    # nothing left behind but the reports: the one exception is libpulse's own runtime link,
    # which the system's audio library makes for any program that lists audio devices
    left = sorted(str(p.relative_to(home)) for p in home.rglob("*")
                  if not str(p.relative_to(home)).startswith((".config/pulse", "tmp/pulse-")))
    assert left == [".config", "out", *sorted(f"out/{p.name}" for p in (home / "out").iterdir()),
                    "tmp"], left


def test_serve_as_a_normal_user_says_in_one_line_which_ports_need_privileges(
        user_install: Path, home: Path) -> None:
    proc = _as_nobody([str(user_install / "bin" / "trtcdetect"), "serve"], home, timeout=30)
    assert proc.returncode == 3
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "UDP 843, 443; TCP 443 are below 1024" in lines[0]
    assert "setcap cap_net_bind_service" in lines[0] and "AmbientCapabilities" in lines[0]
    assert "--https-port 8443" in lines[0]
    # the unprivileged list it suggests does start
    ok = subprocess.Popen(["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
                           "--", str(user_install / "bin" / "trtcdetect"), "serve",
                           "--udp-ports", "18000", "--tcp-ports", "18687", "--https-port",
                           "18443", "--quiet", "--check-reports", str(home / "checks"),
                           "--check-open"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, cwd=home, env={"PATH": "/usr/bin:/bin", "HOME": str(home)})
    try:
        assert ok.stdout is not None and "ready" in ok.stdout.readline()
        # ... with the check page, its files from the wheel and its reports folder the user's
        import ssl
        import urllib.request

        context = ssl.create_default_context()
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
        for path, wanted in (("/check/settings", b'"uploads": true'), ("/check", b"check.js"),
                             ("/check/check.js", b"export async function runCheck")):
            with urllib.request.urlopen(f"https://127.0.0.1:18443{path}", context=context,
                                        timeout=10) as answer:
                assert wanted in answer.read(), path
        assert (home / "checks").stat().st_uid == NOBODY
    finally:
        ok.terminate()
        ok.wait(10)


def test_a_normal_user_runs_a_full_diagnosis_and_every_probe_says_what_it_needed(
        user_install: Path, home: Path) -> None:
    name = f"tdc-user-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "-n", name, "link", "set", "lo", "up"], check=True)
        proc = _as_nobody([str(user_install / "bin" / "trtcdetect"), "--output", "out",
                           "--timeout", "1", "--no-sound"], home, netns=name, timeout=170)
    finally:
        subprocess.run(["ip", "netns", "del", name], check=False)
    assert proc.returncode in (1, 2), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    document = json.loads(next((home / "out").glob("*.json")).read_text())
    for probe in document["probes"]:
        # a normal user's run: nothing failed for want of a privilege without saying so
        if probe["status"] == "error":
            assert probe["error"] and "Permission denied" not in probe["error"], probe
    assert (home / "out").glob("*.html")
