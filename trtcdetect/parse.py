"""The parsers of each option's text: one line of ConfigError for bad input, never a traceback.

Re-exported by `config`, where callers have always found them."""

from __future__ import annotations

import ipaddress
import math
import re
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

#: A port list may name this many ports at the most (ranges included): a check, not a scan
MAX_PORTS = 64


class ConfigError(ValueError):
    """Bad input from the command line; its message is the one line the user sees."""


_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def parse_host(text: str) -> str:
    """A DNS name or an IP literal (IPv6 with or without brackets), normalised."""
    raw = text.strip()
    if not raw:
        raise ConfigError("host is empty")
    literal = raw[1:-1] if raw.startswith("[") and raw.endswith("]") else raw
    try:
        return str(ipaddress.ip_address(literal))
    except ValueError:
        pass
    try:
        name = raw.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise ConfigError(f"not a valid host name: {text!r}") from None
    labels = name.split(".")
    if len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ConfigError(f"not a valid host name: {text!r}")
    return name


def parse_port(text: str) -> int:
    try:
        port = int(text.strip())
    except ValueError:
        raise ConfigError(f"not a port number: {text!r}") from None
    if not 1 <= port <= 65535:
        raise ConfigError(f"port out of range 1-65535: {port}")
    return port


def parse_ports(text: str) -> tuple[int, ...]:
    """Ports and ranges, comma-separated ("8000-8010,16285"); empty means none; at most
    MAX_PORTS in all. Duplicates are an error (likely a typo)."""
    if not text.strip():
        return ()
    ports: list[int] = []
    for part in text.split(","):
        low, dash, high = part.partition("-")
        if dash and low.strip() and high.strip():
            first, last = parse_port(low), parse_port(high)
            if last < first:
                raise ConfigError(f"port range runs backwards: {part.strip()!r}")
            if last - first >= MAX_PORTS:
                raise ConfigError(f"port range too long (at most {MAX_PORTS} ports): {part.strip()!r}")
            ports += range(first, last + 1)
        else:
            ports.append(parse_port(part))
    if len(ports) > MAX_PORTS:
        raise ConfigError(f"too many ports: {len(ports)} (at most {MAX_PORTS})")
    duplicates = sorted({p for p in ports if ports.count(p) > 1})
    if duplicates:
        raise ConfigError(f"port listed twice: {', '.join(map(str, duplicates[:5]))}")
    return tuple(ports)


def parse_timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"timeout is not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"timeout must be a positive number of seconds: {text!r}")
    if value > 300:
        raise ConfigError(f"timeout above 300 s is not useful: {text!r}")
    return value


def parse_seconds(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{what} is not a number: {text!r}") from None
    if not math.isfinite(value) or not 0.5 <= value <= 60:
        raise ConfigError(f"{what} must be between 0.5 and 60 seconds: {text!r}")
    return value


def parse_url(text: str, what: str = "--echo-url") -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{what} wants an http:// or https:// URL: {text!r}")
    parse_host(parts.hostname)
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise ConfigError(f"{what} has a bad port: {text!r}") from None
    return text.strip()


def parse_count(text: str, what: str, low: float, high: float) -> int:
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{what} is not a number: {text!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ConfigError(f"{what} must be between {low:g} and {high:g}: {text!r}")
    return int(value)


def parse_hostport(text: str, what: str) -> tuple[str, int]:
    """HOST:PORT, with an IPv6 literal in brackets ([2001:db8::1]:3478)."""
    raw = text.strip()
    if raw.startswith("["):
        host, sep, port = raw[1:].partition("]:")
    else:
        host, sep, port = raw.rpartition(":")
    if not sep or not host:
        raise ConfigError(f"{what} wants HOST:PORT, got {text!r}")
    return parse_host(host), parse_port(port)


def parse_size(text: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d{2,5})\s*[xX]\s*(\d{2,5})\s*", text)
    if not match:
        raise ConfigError(f"--camera-size wants WIDTHxHEIGHT, e.g. 1280x720: {text!r}")
    return int(match.group(1)), int(match.group(2))


def parse_resolve(entries: list[str]) -> dict[str, tuple[str, ...]]:
    """curl-style HOST:ADDR (ADDR may be an IPv6 literal, bracketed or not); repeatable."""
    pinned: dict[str, list[str]] = {}
    for entry in entries:
        host, sep, addr = entry.partition(":")
        if not sep or not host or not addr:
            raise ConfigError(f"--resolve wants HOST:ADDR, got {entry!r}")
        name = parse_host(host)
        literal = addr[1:-1] if addr.startswith("[") and addr.endswith("]") else addr
        try:
            address = str(ipaddress.ip_address(literal))
        except ValueError:
            raise ConfigError(f"--resolve address is not an IP address: {addr!r}") from None
        pinned.setdefault(name, []).append(address)
    return {name: tuple(addrs) for name, addrs in pinned.items()}


def read_text_file(path: Path, what: str) -> str:
    """A file the user named, as text; any problem is one ConfigError line naming `what`."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {what} {path}: {exc}") from None


def check_ca_file(text: str) -> Path:
    path = Path(text)
    if path.is_dir():
        raise ConfigError(f"CA file is a directory: {text}")
    try:
        ssl.create_default_context().load_verify_locations(cafile=str(path))
    except FileNotFoundError:
        raise ConfigError(f"CA file not found: {text}") from None
    except PermissionError:
        raise ConfigError(f"CA file not readable: {text}") from None
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise ConfigError(f"CA file holds no usable PEM certificate: {text} ({exc})") from None
    return path


def check_output_dir(text: str) -> Path:
    """Create the folder if needed and prove a file can be written there."""
    path = Path(text)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"cannot create output folder {text}: {exc.strerror or exc}") from None
    try:
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise ConfigError(f"output folder is not writable: {text} ({exc.strerror or exc})") from None
    return path


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    auth: str | None = None  # "user:password", never shown

    @property
    def shown(self) -> str:
        """The proxy as reports show it: no user, no password."""
        return f"http://{self.host}:{self.port}"


def parse_proxy(url: str) -> Proxy:
    """http://[user:password@]host[:port] (port 8080 when not given)."""
    parts = urlsplit(url.strip() if "://" in url else f"http://{url.strip()}")
    if parts.scheme != "http" or not parts.hostname:
        raise ConfigError("--proxy wants http://HOST:PORT (an HTTP proxy that supports CONNECT)")
    try:
        port = parts.port or 8080
    except ValueError:
        raise ConfigError("--proxy has a bad port") from None
    auth = None
    if parts.username is not None:
        auth = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
    return Proxy(parts.hostname, port, auth)
