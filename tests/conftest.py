from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

from tests.lab import SERVER_ADDRS, Lab, built
from trtcdetect.defaults import DEFAULTS
from trtcdetect.report.json import validate

# Tencent's SDK dials public addresses built into it: in this suite it runs only where a test
# removes this switch, inside namespaces with no route out (tests/probes/test_trtc_lab.py). Every other
# run -- unit tests, labs, benchmarks started from tests -- has the trtc probe skipped.
os.environ["TRTCDETECT_NO_SDK"] = "1"

SERVE, COTURN, WRONG_NAME, EXPIRED, EXPIRING, NOTHING = SERVER_ADDRS[:6]
DNS = {
    "trtc.test": SERVE,
    "coturn.test": COTURN,
    "wrong.test": WRONG_NAME,
    "expired.test": EXPIRED,
    "soon.test": EXPIRING,
    "refused.test": NOTHING,
    "redirect.test": SERVER_ADDRS[6],
    "nx.test": None,  # NXDOMAIN
}


@dataclass(frozen=True)
class Services:
    lab: Lab
    ca_file: Path


@pytest.fixture(scope="session")
def lab() -> Iterator[Lab]:
    with built(Lab) as lab:
        yield lab


@pytest.fixture(scope="session")
def services(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Services:
    """The lab's servers, started once: see DNS above for who is where.

    - trtc.test: `trtcdetect serve` with every default port and HTTPS (certificate from a test CA)
    - coturn.test: Debian's coturn on every default UDP port (an independent STUN server)
    - wrong.test / expired.test / soon.test: HTTPS with a wrong-name / expired / 5-day certificate
    - refused.test: an address where nothing listens; nx.test does not exist
    """
    tmp = tmp_path_factory.mktemp("services")
    ca = trustme.CA()
    ca_file = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    now = dt.datetime.now(dt.UTC)

    def cert(name: str, *identities: str, **validity: dt.datetime) -> list[str]:
        leaf = ca.issue_cert(*identities, **validity)  # type: ignore[arg-type]
        chain, key = tmp / f"{name}.pem", tmp / f"{name}.key"
        chain.write_bytes(b"".join(blob.bytes() for blob in leaf.cert_chain_pems))
        leaf.private_key_pem.write_to_path(str(key))
        return ["--cert", str(chain), "--key", str(key)]

    lab.dnsmasq(DNS)
    lab.serve(SERVE, *cert("trtc", "trtc.test"))
    https_only = ["--tcp-ports", "", "--udp-ports", ""]
    lab.serve(WRONG_NAME, *https_only, *cert("wrong", "other.test"))
    lab.serve(EXPIRED, *https_only, *cert(
        "expired", "expired.test", not_before=now - dt.timedelta(days=30),
        not_after=now - dt.timedelta(days=1)))
    lab.serve(EXPIRING, *https_only, *cert(
        "soon", "soon.test", not_after=now + dt.timedelta(days=5)))
    for port in DEFAULTS.udp_ports:
        lab.coturn(COTURN, port)
    return Services(lab, ca_file)


@pytest.fixture(scope="session")
def redirector(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An HTTPS server at redirect.test (a CA of its own): / redirects to plain HTTP,
    /elsewhere to https://trtc.test/. Returns a bundle that trusts it and the lab's CA."""
    tmp = tmp_path_factory.mktemp("redirect")
    ca = trustme.CA()
    leaf = ca.issue_cert("redirect.test")
    leaf.private_key_and_cert_chain_pem.write_to_path(str(tmp / "both.pem"))
    bundle = tmp / "bundle.pem"
    bundle.write_bytes(services.ca_file.read_bytes() + ca.cert_pem.bytes())
    script = textwrap.dedent(f"""
        import ssl
        from aiohttp import web
        async def index(request):
            raise web.HTTPFound("http://redirect.test/insecure")
        async def elsewhere(request):
            raise web.HTTPFound("https://trtc.test/")
        app = web.Application()
        app.router.add_get("/", index)
        app.router.add_get("/elsewhere", elsewhere)
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain("{tmp / 'both.pem'}")
        web.run_app(app, host="{DNS['redirect.test']}", port=443, ssl_context=ctx,
                    print=lambda *a: print("ready", flush=True))
    """)
    proc = services.lab.spawn([sys.executable, "-c", script], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE)
    assert proc.stdout is not None and "ready" in proc.stdout.readline().decode()
    return bundle


@pytest.fixture()
def firewall(services: Services) -> Iterator[Lab]:
    """The lab with an empty server-side firewall, emptied again after the test."""
    services.lab.firewall([])
    yield services.lab
    services.lab.firewall([])


def load_valid(path: Path | str) -> dict[str, object]:
    """Load a report written by trtcdetect and check it against the JSON Schema."""
    document: dict[str, object] = json.loads(Path(path).read_text("utf-8"))
    validate(document)
    return document


#: fixtures that build the lab (namespaces, servers): a test using one, directly or through
#: another fixture, is marked `lab`
LAB_FIXTURES = frozenset({
    "lab", "services", "redirector", "firewall", "held_lab", "link", "client_output_drop",
    "resolv_conf", "trtc_ports_only", "strict_trtc_ports", "exporter", "dual_lab", "natlab",
    "stun_link", "tinyproxy", "trtc_lab", "web_lab", "user_install", "dist", "pulse",
    "local_serve", "check_site", "check_link", "proxy_gateway", "hosts_file",
    "captive_portal", "pathlab", "nat64_lab"})
#: tests that start headless Chromium, by the words in their module or name
BROWSER_WORDS = ("chromium", "browser_webrtc", "trtc_web", "browser_netns", "trtcweb",
                 "in_chromium", "html_chromium", "screenshot", "the_browser", "web_sdk",
                 "check_browser", "check_impaired")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Markers from what a test uses (pyproject declares them): `lab` for the lab's fixtures
    or a module that builds namespaces itself, `browser` for Chromium, `sdk` for liteav, `root`
    for another user or a device node. A test that marks itself keeps its own marks too."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        module = item.module.__name__ if isinstance(item, pytest.Function) else ""
        words = f"{module} {item.name}".lower()
        # a test that calls run_chromium itself starts it too
        code = getattr(getattr(item, "function", None), "__code__", None)
        if code is not None and "run_chromium" in code.co_names:
            words += " chromium"
        if fixtures & LAB_FIXTURES or module.endswith(LAB_MODULES) or item.name.startswith(
                SECONDS_LONG):
            item.add_marker(pytest.mark.lab)
        if any(word in words for word in BROWSER_WORDS):
            item.add_marker(pytest.mark.browser)
        if module.endswith("test_trtc_lab"):
            item.add_marker(pytest.mark.sdk)
        if module.endswith(ROOT_MODULES):
            item.add_marker(pytest.mark.root)


#: modules whose tests build namespaces, links or servers without a shared fixture
LAB_MODULES = ("test_capacity_lab", "test_diagnosis_lab", "test_domain_lab", "test_family_lab",
               "test_ports_lab", "test_proxy_lab", "test_run_lab", "test_trtc_lab",
               "test_serve_nat", "test_node_exporter", "test_house_contract", "test_packaging",
               "test_browser_netns", "test_trtc_web", "test_check_browser",
               "test_check_impaired", "test_path_lab")
ROOT_MODULES = ("test_packaging", "test_browser_netns")
#: tests that run real calls, servers or device threads for seconds without a lab fixture
#: (each over 1.5 s on 2 cores): with the lab, out of the quick inner loop
SECONDS_LONG = (
    "test_five_calls_in_one_process_leak_no_fds_or_threads",
    "test_serve_keeps_answering_under_junk_and_its_memory_stays_flat",
    "test_an_audio_device_scan_that_hangs_fails_both_audio_probes_and_the_run_ends",
    "test_a_microphone_stuck_in_a_read_gives_no_data_and_the_run_still_ends",
    "test_echo_peer_wants_its_token_and_caps_concurrent_calls",
    "test_a_failed_camera_is_not_used_by_the_test_call",
    "test_the_media_window_starts_when_media_first_comes_back",
    "test_echo_peer_without_a_received_url_falls_back_to_receiver_reports",
    "test_test_call_sends_the_working_camera",
    "test_tls_and_https_steps_run_on_a_loop_of_their_own",
    "test_ctrl_c_in_the_middle_of_a_camera_capture",
    "test_ctrl_c_in_the_middle_of_a_test_call",
    "test_a_camera_whose_open_blocks_gives_up_in_time_and_the_loop_keeps_running",
    "test_output_folder_removed_mid_run",
    "test_moving_pattern_passes_with_the_source_frame_rate",
    "test_local_loopback_call_passes_with_sane_numbers",
    "test_low_resolution_and_frame_rate_warn",
    "test_server_sends_a_train_only_to_the_address_that_holds_its_cookie",
    "test_echo_peer_tells_what_it_received_to_its_caller_only",
    "test_hostile_stun_servers",
)
