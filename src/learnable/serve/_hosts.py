"""Which ``Host`` headers the server answers, for every address it may be bound to.

DNS rebinding: a page at ``http://evil.example:8765/`` whose name the attacker re-points at
this machine sends ``Host: evil.example:8765``. A browser puts in ``Host`` the name the page
was loaded from, so a server that answers only its own names cannot be reached that way.
An IP address in ``Host`` is safe to answer (a page loaded from an address is that
address's own page, not the attacker's), as long as it is an address of this server.
"""

from __future__ import annotations

import ipaddress
import socket


class HostCheck:
    """Names and addresses a request may be addressed to, given ``--host`` and the
    address the socket is bound to."""

    def __init__(self, host: str, bound: str):
        self.bound = ipaddress.ip_address(bound.split("%", 1)[0])
        self.names = {"localhost"}
        if not _is_address(host):
            self.names.add(host.lower().rstrip("."))  # --host NAME: that name
        if not self.bound.is_loopback:
            self.names.add(socket.gethostname().lower())  # how other machines name this one

    def allows(self, header: str) -> bool:
        name = host_name(header)
        if not name:
            return False
        if name in self.names:
            return True
        try:
            address = ipaddress.ip_address(name)
        except ValueError:
            return False
        if self.bound.is_unspecified:  # 0.0.0.0 or ::, every address of this machine
            return True
        return address == self.bound or (self.bound.is_loopback and address.is_loopback)

    def describe(self) -> str:
        if self.bound.is_unspecified:
            return f"this machine's addresses or {' or '.join(sorted(self.names))}"
        if self.bound.is_loopback:
            return f"{self.bound} (or another loopback address) or {' or '.join(sorted(self.names))}"
        return f"{self.bound} or {' or '.join(sorted(self.names))}"


def host_name(header: str) -> str:
    """'localhost:8765' → 'localhost'; '[::1]:8765' → '::1'; 'Example.COM.' → 'example.com'."""
    header = header.strip()
    if header.startswith("["):
        return header[1:].split("]", 1)[0].lower()
    return header.rsplit(":", 1)[0].lower().rstrip(".")


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return False
    return True


def is_loopback(address: str) -> bool:
    """Whether the bound address serves this machine only (127.0.0.0/8, ::1)."""
    return ipaddress.ip_address(address.split("%", 1)[0]).is_loopback
