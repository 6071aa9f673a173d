"""-4 / -6, --source and --interface for the test call.

aiortc has no option for which local addresses ICE gathers on: it asks aioice's
`get_host_addresses`, which lists every address of every interface. While the call's own peer
connection gathers (its setLocalDescription), that function is replaced by one that keeps only
the chosen family, the --source address, or the addresses of the --interface device; the
original comes back at once, before anything else gathers (the loopback echo peer gathers
later, unrestricted). An --interface is honoured by its addresses: the ICE sockets are bound to
them, not to the device itself (aioice opens them; SO_BINDTODEVICE cannot be set there).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ..config import Config
from ..models import Message
from ..text.ids import S
from .signalling import CallFailed


def same_address(a: str, b: str) -> bool:
    try:
        return ipaddress.ip_address(a.split("%")[0]) == ipaddress.ip_address(b.split("%")[0])
    except ValueError:
        return False


def interface_addresses(name: str) -> list[str]:
    import ifaddr

    found: list[str] = []
    for adapter in ifaddr.get_adapters():
        if adapter.name == name:
            found += [ip.ip if isinstance(ip.ip, str) else ip.ip[0] for ip in adapter.ips]
    return found


def chooser(config: Config, real: Callable[..., list[str]]) -> Callable[..., list[str]]:
    """get_host_addresses as the run's options restrict it."""
    def chosen(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        found = real(use_ipv4=use_ipv4 and config.network.family != 6,
                     use_ipv6=use_ipv6 and config.network.family != 4)
        if config.network.source:
            found = [a for a in found if same_address(a, str(config.network.source))]
        if config.network.interface:
            mine = interface_addresses(config.network.interface)
            found = [a for a in found if any(same_address(a, m) for m in mine)]
        return found
    return chosen


def local_choice(config: Config) -> str:
    """The options that chose the call's addresses, as the user typed them."""
    parts = [f"-{config.network.family}" if config.network.family else "",
             f"--source {config.network.source}" if config.network.source else "",
             f"--interface {config.network.interface}" if config.network.interface else ""]
    return " ".join(p for p in parts if p)


@contextmanager
def gathering(config: Config) -> Iterator[None]:
    """While the call's peer connection gathers: ICE sees only the chosen addresses; none
    left is CallFailed at ICE, naming the options that left none."""
    import aioice.ice

    if not config.network.local_chosen:
        yield
        return
    real = aioice.ice.get_host_addresses
    chosen = chooser(config, real)
    if not chosen(use_ipv4=True, use_ipv6=True):
        raise CallFailed("ICE", Message(S.CALL_NO_LOCAL_ADDRESS, {"which": local_choice(config)}))
    aioice.ice.get_host_addresses = chosen
    try:
        yield
    finally:
        aioice.ice.get_host_addresses = real
