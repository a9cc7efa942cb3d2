"""The outgoing-HTTP guard (PRODUCT.md section 12), with DNS answers chosen by the test."""

import socket

import httpx
import pytest

from docg.common import ssrf
from docg.common.ssrf import BlockedAddress, check_url, guarded_request


@pytest.fixture
def dns(monkeypatch):
    """Resolve the names in `dns.table` to the test's addresses; record every lookup."""
    real = socket.getaddrinfo

    class Fake:
        table: dict[str, list[str]] = {}
        lookups: list[str] = []

    def getaddrinfo(host, port, *args, **kwargs):
        Fake.lookups.append(host)
        if host not in Fake.table:
            return real(host, port, *args, **kwargs)
        return [
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", (ip, port, 0, 0))
            if ":" in ip
            else (socket.AF_INET, socket.SOCK_STREAM, 6, "", (ip, port))
            for ip in Fake.table[host]
        ]

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    Fake.table, Fake.lookups = {}, []
    return Fake


@pytest.fixture
def transport(monkeypatch):
    """Answer the guard's requests from `transport.routes` ({Host header: response}); record them."""
    real = httpx.Client

    class Routes:
        routes: dict[str, httpx.Response] = {}
        seen: list[tuple[str, str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        Routes.seen.append((request.method, str(request.url), request.headers["host"]))
        return Routes.routes[request.headers["host"]]

    monkeypatch.setattr(ssrf.httpx, "Client", lambda **kw: real(transport=httpx.MockTransport(handler), **kw))
    Routes.routes, Routes.seen = {}, []
    return Routes


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # carrier-grade NAT
        "0.0.0.0",
        "::1",
        "fd00::1",
        "fe80::1",
        "::ffff:127.0.0.1",
    ],
)
def test_it_refuses_hosts_that_resolve_to_internal_addresses(dns, settings, address):
    settings.SSRF_ALLOWED_NETWORKS, settings.SSRF_ALLOWED_HOSTS = [], []
    dns.table["target.example"] = [address]
    with pytest.raises(BlockedAddress, match="private, loopback, link-local or metadata"):
        check_url("https://target.example/hook")


def test_it_refuses_internal_ip_literals(settings):
    settings.SSRF_ALLOWED_NETWORKS, settings.SSRF_ALLOWED_HOSTS = [], []
    for url in ("http://127.0.0.1:8000/", "http://[::1]/", "http://169.254.169.254/latest/meta-data/"):
        with pytest.raises(BlockedAddress):
            check_url(url)


def test_it_allows_public_addresses_and_returns_the_one_to_connect_to(dns, settings):
    settings.SSRF_ALLOWED_NETWORKS, settings.SSRF_ALLOWED_HOSTS = [], []
    dns.table["public.example"] = ["93.184.216.34", "2606:2800:220:1::1"]
    assert check_url("https://public.example/hook") == "93.184.216.34"


def test_it_refuses_a_host_with_any_internal_address(dns, settings):
    settings.SSRF_ALLOWED_NETWORKS, settings.SSRF_ALLOWED_HOSTS = [], []
    dns.table["mixed.example"] = ["93.184.216.34", "10.0.0.5"]
    with pytest.raises(BlockedAddress):
        check_url("http://mixed.example/")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://example.com/", "http:///x"])
def test_it_refuses_other_schemes_and_urls_without_a_host(url):
    with pytest.raises(BlockedAddress, match="Only http and https"):
        check_url(url)


def test_it_refuses_names_that_do_not_resolve(dns, settings):
    settings.SSRF_ALLOWED_HOSTS = []
    dns.table["nothing.example"] = []
    with pytest.raises(BlockedAddress, match="could not be resolved"):
        check_url("http://nothing.example/")


def test_operator_allow_lists_open_only_what_they_name(dns, settings):
    settings.SSRF_ALLOWED_NETWORKS = ["10.0.0.0/8"]
    settings.SSRF_ALLOWED_HOSTS = ["intranet.example"]
    dns.table.update({"ten.example": ["10.1.2.3"], "home.example": ["192.168.1.1"]})
    assert check_url("http://ten.example/") == "10.1.2.3"
    with pytest.raises(BlockedAddress):
        check_url("http://home.example/")
    assert check_url("http://intranet.example/") is None
    assert "intranet.example" not in dns.lookups


def test_a_redirect_from_an_allowed_host_to_a_private_address_is_refused(dns, settings, transport):
    settings.SSRF_ALLOWED_NETWORKS, settings.SSRF_ALLOWED_HOSTS = [], []
    dns.table.update({"public.example": ["93.184.216.34"], "internal.example": ["10.0.0.7"]})
    transport.routes["public.example"] = httpx.Response(302, headers={"Location": "http://internal.example/admin"})
    with pytest.raises(BlockedAddress, match=r"10\.0\.0\.7"):
        guarded_request("POST", "http://public.example/hook", timeout=1, json={"a": 1})
    assert transport.seen == [("POST", "http://93.184.216.34/hook", "public.example")]


def test_a_redirect_to_a_metadata_ip_literal_is_refused(dns, settings, transport):
    settings.SSRF_ALLOWED_NETWORKS, settings.SSRF_ALLOWED_HOSTS = [], []
    dns.table["public.example"] = ["93.184.216.34"]
    transport.routes["public.example"] = httpx.Response(
        301, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
    )
    with pytest.raises(BlockedAddress):
        guarded_request("GET", "http://public.example/", timeout=1)
    assert len(transport.seen) == 1


def test_redirects_between_public_hosts_are_followed_and_303_becomes_get(dns, settings, transport):
    settings.SSRF_ALLOWED_NETWORKS, settings.SSRF_ALLOWED_HOSTS = [], []
    dns.table.update({"a.example": ["93.184.216.34"], "b.example": ["93.184.216.35"]})
    transport.routes["a.example"] = httpx.Response(303, headers={"Location": "http://b.example/done"})
    transport.routes["b.example"] = httpx.Response(200, json={"ok": True})
    response = guarded_request("POST", "http://a.example/start", timeout=1, json={"a": 1})
    assert response.json() == {"ok": True}
    assert transport.seen == [
        ("POST", "http://93.184.216.34/start", "a.example"),
        ("GET", "http://93.184.216.35/done", "b.example"),
    ]


def test_endless_redirects_are_refused(dns, settings, transport):
    settings.SSRF_ALLOWED_NETWORKS, settings.SSRF_ALLOWED_HOSTS = [], []
    dns.table["loop.example"] = ["93.184.216.34"]
    transport.routes["loop.example"] = httpx.Response(302, headers={"Location": "/again"})
    with pytest.raises(BlockedAddress, match="redirects"):
        guarded_request("GET", "http://loop.example/", timeout=1)
    assert len(transport.seen) == ssrf.MAX_REDIRECTS + 1


def test_it_connects_to_the_checked_address_without_a_second_lookup(dns, settings, loopback_server):
    """DNS rebinding: a second answer (private) between the check and the connection must not matter."""
    settings.SSRF_ALLOWED_NETWORKS, settings.SSRF_ALLOWED_HOSTS = ["127.0.0.0/8"], []
    port = loopback_server.server_address[1]
    dns.table["pinned.example"] = ["127.0.0.1"]
    response = guarded_request("GET", f"http://pinned.example:{port}/x", timeout=5)
    assert response.status_code == 200
    assert dns.lookups.count("pinned.example") == 1
    [request] = loopback_server.received
    assert request["headers"]["Host"] == f"pinned.example:{port}"
