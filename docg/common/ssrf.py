"""Outgoing connections to user-supplied hosts (HTTP, SMTP): refuse private, loopback, link-local, metadata.

Checked after DNS resolution and again on every redirect (redirects are followed
by hand). Operators can allow specific hosts or networks with
SSRF_ALLOWED_HOSTS / SSRF_ALLOWED_NETWORKS.
"""

import ipaddress
import socket
from urllib.parse import urljoin, urlsplit

import httpx
from django.conf import settings

MAX_REDIRECTS = 5


class BlockedAddress(Exception):
    pass


class InvalidHost(BlockedAddress):
    """The host is not a name or address at all (an empty or over-long label, characters IDNA refuses)."""


def host_problem(host: str) -> str | None:
    """Why `host` cannot be a host name or IP address, or None when it can.

    getaddrinfo encodes a name with the IDNA codec, which raises UnicodeError (not
    gaierror) for a label over 63 characters, an empty label or a character such
    as a fullwidth at sign (U+FF20): asked first, so a user's typo is a clear refusal, not a crash.
    """
    bare = host.strip("[]")
    if not bare:
        return "the host is empty"
    try:
        ipaddress.ip_address(bare.split("%")[0])
        return None
    except ValueError:
        pass
    try:
        encoded = bare.encode("idna")
    except UnicodeError:
        # The codec's own text ("encoding with 'idna' codec failed") means nothing to the person who typed it.
        if any(not label or len(label) > 63 for label in bare.rstrip(".").split(".")):
            return f"{host!r} is not a valid host name (each part must have 1 to 63 characters)"
        return f"{host!r} is not a valid host name (it holds characters a host name cannot have)"
    labels = encoded.rstrip(b".").split(b".")
    if len(encoded) > 253 or any(not label or len(label) > 63 for label in labels):
        return f"{host!r} is not a valid host name (each part must have 1 to 63 characters)"
    if any(not all(chr(c).isalnum() or c in b"-_" for c in label) for label in labels):
        return f"{host!r} is not a valid host name (only letters, digits, '-' and '_')"
    return None


def url_problem(url: str) -> str | None:
    """Why `url` cannot be an http(s) URL with a valid host, or None when it can."""
    try:
        parts = urlsplit(url)
        hostname, _port = parts.hostname, parts.port
    except ValueError as exc:  # NFKC-normalised '@' or ':' in the netloc, a port out of range
        return f"{url!r} is not a valid URL ({exc})"
    if parts.scheme not in ("http", "https") or not hostname:
        return f"Only http and https URLs with a host are allowed (got {url!r})."
    return host_problem(hostname)


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in getattr(settings, "SSRF_ALLOWED_NETWORKS", [])]


def _is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or (isinstance(ip, ipaddress.IPv4Address) and ip in ipaddress.ip_network("100.64.0.0/10"))
    )


def check_url(url: str) -> str | None:
    """Raise BlockedAddress unless `url` is http(s) and every address its host resolves to is allowed.

    Returns the checked address to connect to (None for a host named in SSRF_ALLOWED_HOSTS).
    """
    problem = url_problem(url)
    if problem:
        raise InvalidHost(problem)
    parts = urlsplit(url)
    return check_host(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))


def check_host(host: str, port: int) -> str | None:
    """Raise BlockedAddress unless every address `host` resolves to is allowed (any TCP protocol: SMTP too).

    Returns the checked address (None for a host named in SSRF_ALLOWED_HOSTS).
    """
    problem = host_problem(host)
    if problem:
        raise InvalidHost(problem)
    host = host.lower().strip("[]")
    if host in {h.lower() for h in getattr(settings, "SSRF_ALLOWED_HOSTS", [])}:
        return None
    try:
        infos = socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise BlockedAddress(f"The host {host!r} could not be resolved.") from exc
    allowed = _allowed_networks()
    addresses = []
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if not (_is_public(ip) or any(ip in net for net in allowed)):
            raise BlockedAddress(f"{host} resolves to {ip}, a private, loopback, link-local or metadata address.")
        addresses.append(str(ip))
    if not addresses:
        raise BlockedAddress(f"The host {host!r} could not be resolved.")
    return addresses[0]


def _send(client: httpx.Client, method: str, url: str, address: str | None, **kwargs) -> httpx.Response:
    """Connect to the address that was checked, not to a second DNS answer (DNS rebinding)."""
    if address is None:
        return client.request(method, url, **kwargs)
    target = httpx.URL(url)
    headers = httpx.Headers(kwargs.pop("headers", None))
    headers.setdefault("Host", target.netloc.decode("ascii"))
    # TLS still checks the certificate against the real host name.
    extensions = {"sni_hostname": target.raw_host.decode("ascii")} if target.scheme == "https" else {}
    return client.request(method, target.copy_with(host=address), headers=headers, extensions=extensions, **kwargs)


def guarded_request(method: str, url: str, *, timeout: float, **kwargs) -> httpx.Response:
    """An httpx request that re-checks the address before the first call and after every redirect."""
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        for _ in range(MAX_REDIRECTS + 1):
            address = check_url(url)
            response = _send(client, method, url, address, **kwargs)
            if not response.is_redirect:
                return response
            url = urljoin(url, response.headers["location"])
            if response.status_code in (301, 302, 303):
                method, kwargs = "GET", {k: v for k, v in kwargs.items() if k == "headers"}
        raise BlockedAddress(f"More than {MAX_REDIRECTS} redirects.")
