"""The command line: help, version, probe list, and bad input -> one line on stderr, exit 3."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from trtcdetect import __version__
from trtcdetect.main import main


def test_version_and_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"trtcdetect {__version__}"
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for words in ("exit codes", "0  every probe passed", "3  unknown", "--udp-ports", "8000,8080",
                  "no answer (open or filtered)", "trtcdetect serve"):
        assert words in out, words


def test_probes_lists_each_probe_on_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [
        "ports", "domain", "nat", "path", "trtc", "url", "camera", "microphone", "speaker",
        "browsers", "trtcweb", "rtp", "capacity"]


def _unwritable(tmp_path: Path) -> str:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return str(blocker / "reports")  # a folder below a file cannot exist


BAD_INPUT = [
    (["--target", ""], "host is empty"),
    (["--target", "bad host!"], "not a valid host name"),
    (["--target", "a" * 300], "not a valid host name"),
    (["--target=-lead.example"], "not a valid host name"),
    (["--target", "x;rm -rf /"], "not a valid host name"),
    (["--tcp-ports", "0"], "out of range"),
    (["--udp-ports", "8000,70000"], "out of range"),
    (["--udp-ports", "80a"], "not a port number"),
    (["--udp-ports", "443,443"], "listed twice"),
    (["--udp-ports", "8010-8000"], "runs backwards"),
    (["--udp-ports", "1-5000"], "port range too long"),
    (["--udp-ports", "8000-8003,8002"], "listed twice"),
    (["--tcp-ports", "8000-"], "not a port number"),
    (["--timeout", "0"], "positive"),
    (["--timeout", "-1"], "positive"),
    (["--timeout", "nan"], "positive"),
    (["--timeout", "inf"], "positive"),
    (["--timeout", "soon"], "not a number"),
    (["--only", "nosuch"], "unknown probe id 'nosuch'"),
    (["--skip", "ports,domain,nat,path,trtc,url,camera,microphone,speaker,browsers,trtcweb,rtp,"
                "capacity"],
     "no probe to run"),
    (["--url", "ftp://x"], "http:// or https://"),
    (["--stun", "nocolon"], "HOST:PORT"),
    (["--stun", "[2001:db8::1]:0"], "out of range"),
    (["--quality-count", "0"], "between 1 and 5000"),
    (["--profile", "nosuch"], "unknown profile"),
    (["--echo-url", "ftp://x"], "http:// or https://"),
    (["--echo-url", "http://bad host/"], "not a valid host name"),
    (["--call-seconds", "-1"], "between 0.5 and 60"),
    (["--camera-seconds", "0"], "between 0.5 and 60"),
    (["--mic-seconds", "nan"], "between 0.5 and 60"),
    (["--camera-size", "10"], "WIDTHxHEIGHT"),
    (["--ca-file", "/nonexistent/ca.pem"], "CA file not found"),
    (["--ca-file", "/"], "is a directory"),
    (["--ca-file", "/etc/hostname"], "no usable PEM"),
    (["--secret-key", "5bd2850fff3e"], "--secret-key is refused"),
    (["--sdk-app-id", "1400000000"], "no SecretKey"),
    (["--sdk-app-id", "app"], "numeric SDKAppID"),
    (["--secret-key-file", "/etc/hostname"], "needs --sdk-app-id"),
    (["--credentials", "/nonexistent/creds.json"], "credentials file not found"),
    (["--credentials", "/etc/hostname"], "not a trtcdetect credentials file"),
    (["--credentials", "/etc/hostname", "--sdk-app-id", "1"], "give one"),
    (["--socks5", "nocolon"], "HOST:PORT"),
    (["--trtc-deadline", "0"], "between 0.5 and 60"),
    (["--trtc-seconds", "600"], "between 0.5 and 60"),
    (["--resolve", "nocolon"], "HOST:ADDR"),
    (["--resolve", "a.test:not-an-ip"], "not an IP address"),
    (["--frobnicate"], "unrecognized arguments"),
    (["serve", "--udp-ports", "0"], "out of range"),
    (["serve", "--stun", "stun.example.com"], "--stun wants HOST:PORT"),
    (["serve", "--check-reports", "/nonexistent/never-made"], "needs a token"),
    (["serve", "--check-reports", "/proc/no/such", "--check-open"], "--check-reports /proc/no"),
    (["serve", "--keep-days", "0"], "--keep-days"),
    (["serve", "--check-quota-mb", "0"], "--check-quota-mb"),
    (["serve", "--check-uploads-per-address", "0"], "--check-uploads-per-address"),
    (["serve", "--secret-key-file", "/etc/hostname"], "needs --sdk-app-id"),
    (["serve", "--sdk-app-id", "x1"], "numeric SDKAppID"),
    (["invite", "--url", "https://h/check", "--ref", "T-1"], "no token"),
    (["invite", "--url", "ftp://h", "--ref", "T-1", "--token-file", "/etc/hostname"],
     "http(s) URL"),
    (["invite", "--url", "https://h/check", "--ref", "a b", "--token-file", "/etc/hostname"],
     "--ref wants"),
    (["invite", "--url", "https://h/check", "--ref", "T", "--expire", "1y", "--token-file",
      "/etc/hostname"], "--expire wants"),
    (["invite", "--url", "https://h/check", "--ref", "T", "--token-file", "/nonexistent"],
     "--token-file /nonexistent"),
]


@pytest.mark.parametrize(("argv", "words"), BAD_INPUT, ids=[" ".join(a)[:40] for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_and_exit_3(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRTCDETECT_TOKEN", raising=False)  # the rows without a token
    assert main(argv) == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert lines[0].startswith("trtcdetect: error: ") and words in lines[0], lines[0]


def test_unwritable_output_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--output", _unwritable(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot create output folder" in err


def test_ipv6_literals_are_accepted_with_and_without_brackets() -> None:
    from trtcdetect.parse import parse_host

    assert parse_host("[2001:db8::1]") == parse_host("2001:db8::1") == "2001:db8::1"
    assert parse_host("QCloud.RTC.qq.com.") == "qcloud.rtc.qq.com"
    assert parse_host("例子.测试") == "xn--fsqu00a.xn--0zwm56d"


def test_a_real_process_prints_no_traceback() -> None:
    proc = subprocess.run([sys.executable, "-m", "trtcdetect", "--timeout", "-5"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 3
    assert proc.stderr == "trtcdetect: error: timeout must be a positive number of seconds: '-5'\n"
    assert proc.stdout == ""


def test_port_lists_take_ranges() -> None:
    from trtcdetect.parse import MAX_PORTS, parse_ports

    assert parse_ports("8000-8003,16285") == (8000, 8001, 8002, 8003, 16285)
    assert parse_ports(" 443 ") == (443,) and parse_ports("") == ()
    assert len(parse_ports(f"1000-{1000 + MAX_PORTS - 1}")) == MAX_PORTS


def test_every_option_of_every_command_has_help() -> None:
    """Walks the parser of each command: an option without help text fails here (hidden ones,
    like the refused --secret-key of a run, are hidden on purpose)."""
    import argparse

    from trtcdetect.commands import credentials, demo, exporter, options, probes, render, serve

    parsers = {"run": options.build_parser(), "serve": serve.build_parser(),
               "credentials": credentials.build_parser(), "exporter": exporter.build_parser(),
               "demo": demo.build_parser(), "render": render.build_parser(),
               "probes": probes.build_parser()}
    missing = [f"{name} {'/'.join(action.option_strings) or action.dest}"
               for name, parser in parsers.items() for action in parser._actions
               if not action.help and not isinstance(action, argparse._HelpAction)]
    assert missing == [], missing


def test_minus_4_and_6_are_families_except_as_values() -> None:
    from trtcdetect.commands.options import build_parser, config_from, families
    from trtcdetect.parse import ConfigError

    parser = build_parser()
    assert families(["-6", "--timeout", "-4", "--json", "-4"], parser) == [
        "--ipv6", "--timeout", "-4", "--json", "--ipv4"]
    with pytest.raises(ConfigError, match="positive"):  # "-4" stays the timeout's value
        config_from(parser.parse_args(families(["--timeout", "-4"], parser)))
