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
# removes this switch, inside namespaces with no route out (tests/test_trtc_lab.py). Every other
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
