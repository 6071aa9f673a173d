"""The exporter's modules: what `GET /probe?module=M&target=T` may run, from a TOML file.

    [modules.office]
    profile = "legacy"              # or "current", or a profile file
    only = ["ports", "domain"]      # default: the target probes (ports, domain, nat, path)
    skip = []
    timeout = 2.0                   # one network step, s
    tcp_ports = [8687]              # default: the profile's
    udp_ports = [8000, 8800]
    resolve = ["media.example.com:10.0.0.5"]
    ca_file = "/etc/ssl/corp-ca.pem"
    max_seconds = 20                # the most one probe may take, whatever Prometheus allows
    targets = ["qcloud.rtc.qq.com"] # allowed targets, exactly ...
    target_pattern = '^media[0-9]+\\.example\\.com$'   # ... or matching this

A target no module allows is refused: the exporter must not become a port scanner for whoever
can reach it. Without a file there is one module, `default`: the legacy profile's network probes
against the legacy profile's own hosts.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..config import Config
from ..declared import apply
from ..evidence import JsonObject
from ..parse import ConfigError, parse_host, read_text_file
from ..probes import with_trait
from ..profiles import BUILTIN, load

#: Probes that need no device, no browser and no Tencent SDK: what a monitoring host runs --
#: those that check the target host itself
MONITORING_PROBES = with_trait("target")
_KEYS = {"profile", "only", "skip", "timeout", "tcp_ports", "udp_ports", "resolve", "ca_file",
         "max_seconds", "targets", "target_pattern"}
#: A module may not let one probe run longer than this, s
MAX_SECONDS = 120.0


@dataclass(frozen=True)
class Module:
    name: str
    profile: str = "legacy"
    only: tuple[str, ...] = MONITORING_PROBES
    skip: tuple[str, ...] = ()
    timeout: str | None = None
    tcp_ports: str | None = None
    udp_ports: str | None = None
    resolve: tuple[str, ...] = ()
    ca_file: str | None = None
    max_seconds: float = 30.0
    targets: tuple[str, ...] = ()
    target_pattern: re.Pattern[str] | None = None
    probes: tuple[str, ...] = field(default_factory=tuple)

    def allows(self, target: str) -> bool:
        return target in self.targets or bool(
            self.target_pattern is not None and self.target_pattern.fullmatch(target))

    def config(self, target: str) -> Config:
        return apply(load(self.profile), {
            "target": target, "timeout": self.timeout, "tcp_ports": self.tcp_ports,
            "udp_ports": self.udp_ports, "resolve": self.resolve, "ca_file": self.ca_file})

    def describe(self) -> JsonObject:
        return {"name": self.name, "profile": self.profile, "probes": list(self.probes),
                "targets": list(self.targets),
                "target_pattern": None if self.target_pattern is None
                else self.target_pattern.pattern, "max_seconds": self.max_seconds}


def _probes(only: tuple[str, ...], skip: tuple[str, ...], where: str) -> tuple[str, ...]:
    from ..probes import REGISTRY

    unknown = [p for p in (*only, *skip) if p not in REGISTRY]
    if unknown:
        raise ConfigError(f"{where}: unknown probe {unknown[0]!r} (known: {', '.join(REGISTRY)})")
    chosen = tuple(p for p in REGISTRY if (not only or p in only) and p not in skip)
    if not chosen:
        raise ConfigError(f"{where}: only/skip leave no probe to run")
    return chosen


def _ports(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(p, int) for p in value):
        raise ConfigError(f"{where} wants a list of port numbers")
    return ",".join(map(str, value))


def module(name: str, table: JsonObject) -> Module:
    where = f"module {name!r}"
    extra = sorted(set(table) - _KEYS)
    if extra:
        raise ConfigError(f"{where}: unknown key {extra[0]!r} (known: {', '.join(sorted(_KEYS))})")
    only = tuple(table.get("only", MONITORING_PROBES))
    skip = tuple(table.get("skip", ()))
    pattern = table.get("target_pattern")
    try:
        compiled = re.compile(pattern) if isinstance(pattern, str) else None
    except re.error as exc:
        raise ConfigError(f"{where}: target_pattern is not a regular expression: {exc}") from None
    seconds = table.get("max_seconds", 30.0)
    if not isinstance(seconds, int | float) or not 1 <= seconds <= MAX_SECONDS:
        raise ConfigError(f"{where}: max_seconds must be between 1 and {MAX_SECONDS:g}")
    found = Module(
        name=name, profile=str(table.get("profile", "legacy")), only=only, skip=skip,
        timeout=None if table.get("timeout") is None else str(table["timeout"]),
        tcp_ports=_ports(table.get("tcp_ports"), f"{where}: tcp_ports"),
        udp_ports=_ports(table.get("udp_ports"), f"{where}: udp_ports"),
        resolve=tuple(table.get("resolve", ())), ca_file=table.get("ca_file"),
        max_seconds=float(seconds),
        targets=tuple(parse_host(t) for t in table.get("targets", ())),
        target_pattern=compiled, probes=_probes(only, skip, where))
    if not found.targets and found.target_pattern is None:
        raise ConfigError(f"{where}: no targets and no target_pattern: it would allow nothing")
    found.config(found.targets[0] if found.targets else "example.invalid")  # checks the rest
    return found


def load_modules(path: str | None) -> dict[str, Module]:
    if path is None:
        legacy = BUILTIN["legacy"]
        return {"default": Module("default", targets=legacy.hosts,
                                  probes=_probes(MONITORING_PROBES, (), "module 'default'"))}
    try:
        data = tomllib.loads(read_text_file(Path(path), "exporter config"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    tables = data.get("modules")
    if not isinstance(tables, dict) or not tables:
        raise ConfigError(f"{path}: no [modules.NAME] table")
    return {name: module(name, table) for name, table in tables.items()}
