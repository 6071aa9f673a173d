"""This computer's network as support sees it (system.network and the report's collapsed
section): real interfaces read here, proxy settings without their credentials, escaped."""

from __future__ import annotations

import asyncio
import json

import pytest

from tests.fixtures import report_a
from trtcdetect import runner
from trtcdetect.config import Config
from trtcdetect.net import local
from trtcdetect.probes.url import PROBE as URL
from trtcdetect.report import html
from trtcdetect.report.json import to_dict, validate


def test_proxy_credentials_never_show() -> None:
    found = local.proxies({"https_proxy": "http://alice:s3cr3t@proxy.corp:3128/",
                           "HTTP_PROXY": "proxy.corp:8080", "NO_PROXY": "localhost,.corp"})
    assert found == {"HTTPS_PROXY": "http://(credentials not shown)@proxy.corp:3128/",
                     "HTTP_PROXY": "proxy.corp:8080", "NO_PROXY": "localhost,.corp"}
    assert "s3cr3t" not in json.dumps(found) and "alice" not in json.dumps(found)


def test_a_run_records_the_network_and_hides_proxy_passwords(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://bob:hunter2@proxy.corp:3128")
    report = asyncio.run(runner.run(Config(), [URL]))
    network = report.system["network"]
    names = [i["name"] for i in network["interfaces"]]
    assert "lo" in names and "127.0.0.1" in network["interfaces"][names.index("lo")]["addresses"]
    assert network["proxies"]["HTTPS_PROXY"] == "http://(credentials not shown)@proxy.corp:3128"
    document = to_dict(report)
    validate(document)
    page = html.render_document(document, "en")
    assert "hunter2" not in json.dumps(document) and "hunter2" not in page
    assert "This computer&#39;s network" in page or "This computer's network" in page


def test_the_network_section_escapes_what_it_shows() -> None:
    document = to_dict(report_a())
    document["system"]["network"] = {
        "interfaces": [{"name": "<b>eth0</b>", "up": True, "addresses": ["192.0.2.2"]}],
        "default_routes": [], "dns_servers": ["<script>alert(1)</script>"],
        "proxies": {"NO_PROXY": "<img src=x>"}, "routes": {}, "usable_addresses": ["192.0.2.2"],
        "no_network": False}
    page = html.render_document(document, "zh")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)" in page
    assert "<b>eth0</b>" not in page and "<img src=x>" not in page
    assert "本机网络" in page
