"""A profile merged with what the command line gave (declared.apply), without argparse; and the
one source of defaults: the built-in profile's defaults are Config's and --help's."""

from __future__ import annotations

import pytest

from trtcdetect.commands.options import build_parser
from trtcdetect.config import SECTION_OF, Config
from trtcdetect.declared import apply
from trtcdetect.defaults import DEFAULTS
from trtcdetect.parse import ConfigError
from trtcdetect.profiles import BUILTIN, DEFAULT_PROFILE, Profile


def test_nothing_given_is_the_profile_and_its_defaults() -> None:
    config = apply(BUILTIN["current"], {})
    network = config.network
    assert network.hosts == BUILTIN["current"].hosts and network.target == "schedule.cloud-rtc.com"
    assert network.tcp_ports == (443,) and network.wildcards == BUILTIN["current"].wildcards
    assert config.network.profile == "current"
    for name in ("timeout_s", "https_port", "camera_seconds", "camera_size", "mic_seconds",
                 "call_seconds", "connect_deadline_s", "quality_count", "quality_rate_pps",
                 "speaker_loopback"):
        assert config.get(name) == getattr(DEFAULTS, name), name


def test_the_default_profile_gives_what_config_starts_from() -> None:
    """Config's own defaults and the default profile's agree field by field: one source."""
    merged, plain = apply(BUILTIN[DEFAULT_PROFILE], {}), Config()
    differ = [name for name in SECTION_OF
              if merged.get(name) != plain.get(name) and name not in ("hosts", "profile")]
    assert differ == []
    assert merged.network.hosts == (plain.network.target,)


def test_what_was_given_wins_and_a_target_replaces_hosts_and_wildcards() -> None:
    config = apply(BUILTIN["current"], {
        "target": "media.example.com", "udp_ports": "8000", "timeout": "1.5",
        "call_seconds": "2", "camera_size": "320x240", "quality_count": "10",
        "speaker_loopback": "none", "echo_token": ""})
    assert config.network.target == "media.example.com" and config.network.hosts == ("media.example.com",)
    assert config.network.wildcards == () and config.network.udp_ports == (8000,)
    assert config.network.tcp_ports == (443,)  # not given: still the profile's
    assert (config.network.timeout_s, config.call.call_seconds,
            config.devices.camera_size) == (1.5, 2.0, (320, 240))
    assert config.network.quality_count == 10 and config.devices.speaker_loopback == "none"
    assert config.call.echo_token is None


def test_a_profile_timeout_is_used_unless_one_is_given() -> None:
    profile = Profile(name="p", hosts=("a.example",), tcp_ports=(), udp_ports=(8000,),
                      timeout_s=7.0)
    assert apply(profile, {}).network.timeout_s == 7.0
    assert apply(profile, {"timeout": "2"}).network.timeout_s == 2.0


@pytest.mark.parametrize(("given", "says"), [
    ({"call_seconds": "soon"}, "--call-seconds"),
    ({"udp_ports": "8002-8000"}, "port"),  # a range running backwards
    ({"quality_rate": "0"}, "--quality-rate"),
    ({"camera_size": "big"}, "--camera-size"),
    ({"target": "bad host"}, "host"),
])
def test_bad_values_are_one_config_error_naming_the_option(given: dict[str, str], says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        apply(BUILTIN[DEFAULT_PROFILE], given)
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_help_prints_the_profile_defaults() -> None:
    """--help is generated from the defaults: each one shows there as a run would use it."""
    text = " ".join(build_parser().format_help().split())
    d = BUILTIN[DEFAULT_PROFILE].defaults
    for option, value in [("--call-seconds", f"{d.call_seconds:g}"),
                          ("--connect-deadline", f"{d.connect_deadline_s:g}"),
                          ("--camera-size", "{}x{}".format(*d.camera_size)),
                          ("--quality-count", str(d.quality_count)),
                          ("--https-port", str(d.https_port)),
                          ("--udp-ports", ",".join(map(str, d.udp_ports)))]:
        start = text.index("options:") + text[text.index("options:"):].index(option + " ")
        assert f"default: {value})" in text[start:start + 400] or \
            f"default: the profile's, {value})" in text[start:start + 400], option


def test_a_token_in_the_environment_is_not_an_argv_default() -> None:
    """Secrets never reach argv defaults (they would show in --help and in a parsed namespace
    printed for debugging)."""
    import os

    os.environ["TRTCDETECT_TOKEN"] = "s3cret-token-value"
    try:
        parser = build_parser()
        assert parser.parse_args([]).echo_token is None
        assert "s3cret" not in parser.format_help()
    finally:
        del os.environ["TRTCDETECT_TOKEN"]


def test_each_declared_option_is_added_only_from_its_declaration() -> None:
    """No command adds a declared option by hand: its flag, help and default come from
    trtcdetect/declared.py, for every command that carries it (--sdk-app-id in run, serve and
    credentials is one declaration)."""
    import re
    from pathlib import Path

    from trtcdetect import declared
    from trtcdetect.commands.reference import parsers

    commands = Path(declared.__file__).parent / "commands"
    files = {"run": ("options.py", "option_values.py"), "serve": ("serve.py",),
             "credentials": ("credentials.py",)}
    for command, names in files.items():
        flags = {flag for option in declared.of(command) for flag in option.flags}
        for name in names:
            source = (commands / name).read_text()
            added = set(re.findall(r"""add(?:_argument)?\(\s*["'](--[\w-]+)["']""", source))
            assert added & flags == set(), (name, added & flags)
    for command, build in parsers().items():
        actions = {a.option_strings[-1]: a for a in build()._actions if a.option_strings}
        for option in declared.of(command):
            assert actions[option.flags[-1]].help == declared.help_text(
                option, BUILTIN[DEFAULT_PROFILE], command), (command, option.flags)


def test_what_a_run_writes_is_the_output_section_and_not_the_documents_config() -> None:
    """--json, --format, --openmetrics, --textfile, --lang, --output and --quiet are declared
    options whose values land in Config.output (the command reads them there); the JSON
    document's `config` lists the probes' settings only, as it always did."""
    from trtcdetect.commands.options import config_from

    args = build_parser().parse_args(["--json", "--lang", "zh", "--output", "out", "-q",
                                      "--openmetrics", "m.txt", "--textfile", "t.prom"])
    config = config_from(args)
    out = config.output
    assert (out.json, out.lang, out.output, out.quiet) == (True, "zh", "out", True)
    assert (out.openmetrics, out.textfile, out.stdout) == ("m.txt", "t.prom", "json")
    assert config_from(build_parser().parse_args(["--format", "nagios"])).output.stdout == \
        "nagios"
    assert config_from(build_parser().parse_args([])).output.stdout is None
    settings = config.settings()
    assert not set(settings) & {"json", "format", "openmetrics", "textfile", "lang", "output",
                                "quiet"}
