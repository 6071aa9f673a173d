"""What this computer's own network looks like: interfaces and addresses, default routes, the
DNS servers it asks, proxy settings — for the diagnosis ("no network") and for support staff.

Read from the kernel and the usual files (Linux: ioctl and /proc; elsewhere what the standard
library can tell), in well under 10 ms, without sending a packet. Proxy URLs are shown without
their user name and password.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import socket
import struct
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .. import evidence
from ..config import Local
from ..evidence import Evidence, JsonObject
from .bind import family_of, open_socket

PROXY_VARIABLES = ("HTTPS_PROXY", "HTTP_PROXY", "ALL_PROXY", "NO_PROXY")
#: Addresses a route is looked up to when no target address is known (no packet is sent: a
#: connected UDP socket only asks the kernel for its route). TEST-NET addresses (RFC 5737/3849).
ROUTE_PROBES = ("192.0.2.1", "2001:db8::1")

_SIOCGIFFLAGS, _IFF_UP = 0x8913, 0x1


@dataclass(frozen=True)
class Interface:
    name: str
    up: bool
    addresses: tuple[str, ...]

    @property
    def loopback(self) -> bool:
        return self.name == "lo" or any(ipaddress.ip_address(a.split("%")[0]).is_loopback
                                        for a in self.addresses)


class InterfaceSeen(Evidence, frozen=True, kw_only=True):
    name: str
    up: bool
    addresses: tuple[str, ...]


class NetworkSeen(Evidence, frozen=True, kw_only=True):
    """This computer's network as the run saw it (no packet sent): interfaces, default routes,
    DNS servers, proxy variables without credentials."""

    interfaces: tuple[InterfaceSeen, ...] = ()
    default_routes: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    proxies: dict[str, str] = {}
    routes: dict[str, str] = {}
    usable_addresses: tuple[str, ...] = ()
    no_network: bool = False


def network_of(system_network: JsonObject | None) -> NetworkSeen | None:
    """A document's `system.network` as NetworkSeen; None when it was not read (the check
    page's documents have none, a run where reading failed has an empty one) or does not read
    as the type (another version's): the rules that need it then say nothing."""
    if not system_network or "usable_addresses" not in system_network:
        return None
    return evidence.read_or_none(NetworkSeen, system_network)


@dataclass(frozen=True)
class LocalNetwork:
    interfaces: tuple[Interface, ...] = ()
    #: "via GATEWAY dev NAME" (or "dev NAME") per default route, IPv4 and IPv6
    default_routes: tuple[str, ...] = ()
    dns_servers: tuple[str, ...] = ()
    proxies: dict[str, str] = field(default_factory=dict)
    #: for each route probe: the source address the kernel would use, or why there is none
    routes: dict[str, str] = field(default_factory=dict)
    known: bool = True  # False where the interfaces could not be read (not Linux)

    @property
    def usable_addresses(self) -> tuple[str, ...]:
        """Addresses a call could use: on an interface that is up, not loopback, not
        link-local (IPv6 fe80::, IPv4 169.254/16 from no DHCP answer)."""
        found = []
        for interface in self.interfaces:
            if not interface.up or interface.loopback:
                continue
            found += [a for a in interface.addresses if usable_address(a)]
        return tuple(found)

    @property
    def no_network(self) -> bool:
        """Certainly no network: no address a call could use (only loopback, link-local).
        (No default route alone is not: a lab or a private network reaches its hosts on-link;
        the diagnosis looks for "network unreachable" in what the probes saw as well.)"""
        return self.known and not self.usable_addresses

    def seen(self) -> NetworkSeen:
        return NetworkSeen(
            interfaces=tuple(InterfaceSeen(name=i.name, up=i.up, addresses=i.addresses)
                             for i in self.interfaces),
            default_routes=self.default_routes, dns_servers=self.dns_servers,
            proxies=dict(self.proxies), routes=dict(self.routes),
            usable_addresses=self.usable_addresses, no_network=self.no_network)

    def details(self) -> JsonObject:
        return evidence.details(self.seen())


def read(route_to: tuple[str, ...] = ROUTE_PROBES) -> LocalNetwork:
    """This computer's network, as far as it can be read; never raises."""
    interfaces, known = _interfaces()
    return LocalNetwork(interfaces=interfaces, default_routes=_default_routes(),
                        dns_servers=_dns_servers(), proxies=proxies(os.environ),
                        routes={a: route(a) for a in route_to}, known=known)


def usable_address(address: str) -> bool:
    """Whether a call could use this address of an interface: not loopback, not link-local
    (IPv6 fe80::, IPv4 169.254/16 from no DHCP answer)."""
    ip = ipaddress.ip_address(address.split("%")[0])
    return not (ip.is_link_local or ip.is_loopback)


def route(address: str, local: Local | None = None) -> str:
    """The source address the kernel would send from to `address` (from `local`'s address and
    device when given: --source, --interface), or "no route: ..."."""
    try:
        with open_socket(family_of(address), socket.SOCK_DGRAM, local) as sock:
            sock.connect((address, 9))  # UDP: no packet is sent
            return str(sock.getsockname()[0])
    except OSError as exc:
        if exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL,
                         errno.EAFNOSUPPORT):
            return f"no route: {exc.strerror}"
        return f"unknown: {exc.strerror or exc}"


def proxies(environ: dict[str, str] | os._Environ[str]) -> dict[str, str]:
    """Proxy variables as set (either case), user name and password removed."""
    found = {}
    for name in PROXY_VARIABLES:
        value = environ.get(name) or environ.get(name.lower())
        if value:
            found[name] = value if name == "NO_PROXY" else without_credentials(value)
    return found


def without_credentials(url: str) -> str:
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
        host = parts.hostname or ""
    except ValueError:
        return "(not a URL)"
    if ":" in host:
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    hidden = "(credentials not shown)@" if parts.username or parts.password else ""
    scheme = f"{parts.scheme}://" if "://" in url else ""
    return f"{scheme}{hidden}{host}{port}{parts.path}"


def _interfaces() -> tuple[tuple[Interface, ...], bool]:
    """Addresses per interface from ifaddr (aioice's own source of ICE host candidates: the
    same view a call has), and whether each is up (Linux ioctl; elsewhere assumed up)."""
    try:
        import ifaddr

        adapters = ifaddr.get_adapters()
    except (ImportError, OSError):
        return (), False
    found = []
    for adapter in adapters:
        addresses = tuple(ip.ip if isinstance(ip.ip, str) else
                          (f"{ip.ip[0]}%{ip.ip[2]}" if ip.ip[2] else ip.ip[0])
                          for ip in adapter.ips)
        found.append(Interface(str(adapter.nice_name), _is_up(str(adapter.name)), addresses))
    return tuple(found), True


def _is_up(name: str) -> bool:
    try:
        import fcntl
    except ImportError:
        return True
    request = struct.pack("256s", name.encode()[:15])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            flags = struct.unpack("H", fcntl.ioctl(sock.fileno(), _SIOCGIFFLAGS, request)[16:18])[0]
        except OSError:
            return True
    return bool(flags & _IFF_UP)


def _default_routes() -> tuple[str, ...]:
    routes = []
    try:
        for line in Path("/proc/net/route").read_text().splitlines()[1:]:
            parts = line.split()
            if len(parts) > 7 and parts[1] == "00000000" and parts[7] == "00000000":
                gateway = socket.inet_ntoa(struct.pack("<L", int(parts[2], 16)))
                routes.append(f"via {gateway} dev {parts[0]}" if gateway != "0.0.0.0"
                              else f"dev {parts[0]}")
    except (OSError, ValueError):
        pass
    try:
        for line in Path("/proc/net/ipv6_route").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 10 and parts[0] == "0" * 32 and parts[1] == "00" \
                    and parts[9] != "lo":
                gateway = str(ipaddress.IPv6Address(bytes.fromhex(parts[4])))
                routes.append(f"via {gateway} dev {parts[9]}" if gateway != "::"
                              else f"dev {parts[9]}")
    except (OSError, ValueError):
        pass
    return tuple(routes)


def _dns_servers() -> tuple[str, ...]:
    try:
        lines = Path("/etc/resolv.conf").read_text(errors="replace").splitlines()
    except OSError:
        return ()
    return tuple(parts[1] for parts in (line.split() for line in lines)
                 if len(parts) >= 2 and parts[0] == "nameserver")
