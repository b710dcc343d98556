"""Exports leak nothing: Chromium makes no DNS look-up and no connection beyond this machine.

An export runs under `strace -f` (every process: the CLI or the render
service, its workers, the launcher, unshare, Chromium and its helpers),
tracing the calls that reach a network: socket, connect, sendto, sendmsg,
sendmmsg and write.  The test fails on

- any connect or datagram to a non-loopback address;
- any data written or sent on a socket connected beyond loopback;
- anything to port 53 (DNS), even on loopback, and any connection to a
  local resolver's socket (nscd, systemd-resolved).

Where the kernel lets Chromium run in a network namespace of its own (as
here and in CI: root, or unprivileged user namespaces), the export must
use it and nothing at all may be attempted.  Where it cannot, one call is
tolerated and named: the IPv6 reachability probe, a UDP connect() to
Google's 2001:4860:4860::8888 port 443 that sends nothing and that no
Chromium flag turns off.

Debian's chromium without the export's flags looked up accounts.google.com,
update.googleapis.com, clients2.google.com, optimizationguide-pa.googleapis.com
and start.duckduckgo.com; test_the_check_catches_what_chromium_used_to_do
runs the check on those lines, as strace printed them, to show it would fail.
Needs strace (tests/setup_machine.sh installs it); never skipped.
"""
from __future__ import annotations

import ipaddress
import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dashboard.export.chromium import network_isolation

pytestmark = pytest.mark.slow  # real Chromium; conftest's tiers do not know this module

ROOT = Path(__file__).resolve().parents[1]
TRACED = "socket,connect,sendto,sendmsg,sendmmsg,write,execve"
RESOLVER_SOCKETS = ("nscd", "resolve", "dnsmasq")
IPV6_PROBE = ("2001:4860:4860::8888", 443)
CALL = re.compile(r"^(\d+)\s+(?:<\.\.\. )?(connect|sendto|sendmsg|sendmmsg|write)\(")
ADDRESS = re.compile(r'(?:sin6?_port=htons\((\d+)\)[^}]*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6?, "([^"]+)"))')
INET_SOCKET = re.compile(r"^\d+\s+\w+\(\d+<(TCP|UDP|TCPv6|UDPv6):")
CONNECTED = re.compile(r"<(TCP|UDP|TCPv6|UDPv6):\[(.*?)->(.*?)\]>")
UNIX_PATH = re.compile(r'sun_path="([^"]*)"')
DNS_QUESTION = re.compile(r'\\0\\1\\0\\0\\0\\0\\0\\0(.+?)\\0')  # after the header's counts: 1 question, no answers


def local(address: str) -> bool:
    address = address.strip("[]")
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_unspecified


def split_endpoint(endpoint: str) -> tuple[str, int]:
    host, _, port = endpoint.rpartition(":")
    return host.strip("[]"), int(port) if port.isdigit() else 0


def dns_name(line: str) -> str:
    """The question of a DNS query in a traced payload ("\\10accounts\\6google\\3com")."""
    match = DNS_QUESTION.search(line)
    if not match:
        return ""
    return re.sub(r"\\\d+|\\[a-z]", ".", match.group(1)).strip(".")


def outside_traffic(trace: str, isolated: bool) -> tuple[list[str], list[str]]:
    """(violations, tolerated) in a `strace -f -yy` trace."""
    violations, tolerated = [], []
    for line in trace.splitlines():
        call = CALL.match(line)
        if not call:
            continue
        kind = call.group(2)
        problems = []
        for port, ipv4, ipv6 in ADDRESS.findall(line):
            address, port = ipv4 or ipv6, int(port)
            if port == 53:
                problems.append(f"DNS to {address}")
            elif not local(address):
                if kind == "connect" and "<UDPv6" in line and (address, port) == IPV6_PROBE and not isolated:
                    tolerated.append(line)
                    continue
                problems.append(f"{kind} to {address}:{port}")
        socket_kind = INET_SOCKET.search(line)
        if kind != "connect" and socket_kind:
            connected = CONNECTED.search(line)
            if connected:
                host, port = split_endpoint(connected.group(3))
                if port == 53 or not local(host):
                    problems.append(f"{kind} on a socket connected to {connected.group(3)}")
            elif not ADDRESS.search(line):  # strace could not name the peer: data on an inet socket counts
                problems.append(f"{kind} on an {socket_kind.group(1)} socket to an address strace could not show")
        for path in UNIX_PATH.findall(line):
            if any(name in path for name in RESOLVER_SOCKETS):
                problems.append(f"connect to the resolver at {path}")
        if problems:
            name = dns_name(line)
            violations.append("; ".join(problems) + (f" (look-up of {name})" if name else "") + f"\n    {line[:300]}")
    return violations, tolerated


def traced(command: list[str], tmp_path: Path, env: dict | None = None) -> str:
    strace = shutil.which("strace")
    if not strace:
        pytest.fail("strace is missing: apt-get install strace (tests/setup_machine.sh installs it)")
    trace = tmp_path / "trace.txt"
    done = subprocess.run(
        [strace, "-f", "-qq", "-yy", "-s", "256", "-e", f"trace={TRACED}", "-e", "signal=none", "-o", str(trace), *command],
        cwd=ROOT, env={**os.environ, "DASHBOARD_CACHE_DIR": str(tmp_path / "cache"), **(env or {})},
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return trace.read_text(errors="replace")


PAGE_EXPORT = """
import sys, time
from pathlib import Path
from dashboard.store.open import open_dataset
from dashboard.export.client import RenderService
from dashboard.export.figure import page_export
service = RenderService(cache_dir=Path(sys.argv[1]), workers=1)
text, name, fmt = page_export("mode=choropleth", open_dataset(), "pdf", 1280, 720)
job = service.submit(text, fmt, 1280, 720)["job"]
while (status := service.status(job))["state"] not in ("done", "failed"):
    time.sleep(0.2)
assert status["state"] == "done", status
assert service.result(job)[:4] == b"%PDF"
time.sleep(3)  # Chromium's background services start in the first seconds: give them time to try
"""


@pytest.mark.parametrize("path", ["command line", "page"])
def test_an_export_makes_no_dns_lookup_or_outside_connection(path, tmp_path):
    if path == "command line":
        command = [sys.executable, "-m", "dashboard", "export", "--preset", "hd", "--type", "Battles", "--out", str(tmp_path / "map.png")]
    else:  # the page's way: the render service and its worker, started from this script
        command = [sys.executable, "-c", textwrap.dedent(PAGE_EXPORT), str(tmp_path / "service")]
    trace = traced(command, tmp_path)
    assert re.search(r'execve\("/usr/lib/chromium/chromium"', trace), "Chromium did not run under strace"
    isolated = bool(network_isolation())
    assert isolated == ('execve("/usr/bin/unshare"' in trace), "Chromium must run without network wherever the kernel allows"
    violations, tolerated = outside_traffic(trace, isolated)
    assert violations == [], "\n".join(violations[:20])
    if isolated:
        assert tolerated == []


def test_flags_alone_stop_every_dns_lookup(tmp_path):
    """Without the network namespace (where the kernel refuses one), the flags still stop every look-up."""
    script = textwrap.dedent(
        """
        import time
        from dashboard.export.renderer import Renderer
        from dashboard.export.figure import build_export_figure
        from dashboard.store.open import open_dataset
        from dashboard.view import ViewState
        figure = build_export_figure(ViewState(), open_dataset(), width=800, height=500)
        with Renderer(isolate=False) as renderer:
            assert renderer.render(figure, "png", 800, 500)[:4] == b"\\x89PNG"
            time.sleep(3)
        """
    )
    trace = traced([sys.executable, "-c", script], tmp_path)
    assert 'execve("/usr/bin/unshare"' not in trace
    violations, tolerated = outside_traffic(trace, isolated=False)
    assert violations == [], "\n".join(violations[:20])
    assert all("2001:4860:4860::8888" in line for line in tolerated)


# Lines as strace printed them for Debian's chromium under kaleido's own flags.
BEFORE = r'''
15250 connect(18<UDPv6:[36866]>, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "2001:4860:4860::8888", &sin6_addr), sin6_scope_id=0}, 28) = 0
15250 connect(18<UDP:[0.0.0.0:42063]>, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.255.255.53")}, 16) = 0
15250 sendto(18<UDP:[0.0.0.0:42063]>, "w\243\1\0\0\1\0\0\0\0\0\0\10clients2\6google\3com\0\0A\0\1", 37, 0, NULL, 0) = 37
15250 sendto(28<UDP:[0.0.0.0:59169]>, "\223\177\1\0\0\1\0\0\0\0\0\0\10accounts\6google\3com\0\0\1\0\1", 37, 0, NULL, 0) = 37
15250 sendto(28<UDP:[10.0.0.2:59169->10.255.255.53:53]>, "\202Q\1\0\0\1\0\0\0\0\0\0\6update\ngoogleapis\3com\0\0\34\0\1", 39, 0, NULL, 0) = 39
21223 connect(22<TCP:[63276]>, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("142.250.74.46")}, 16) = -1 EINPROGRESS (Operation now in progress)
1673  connect(27<UNIX-STREAM:[152906]>, {sa_family=AF_UNIX, sun_path="/run/dbus/system_bus_socket"}, 29) = -1 ENOENT (No such file or directory)
21223 connect(22<TCP:[63683]>, {sa_family=AF_INET, sin_port=htons(9), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS (Operation now in progress)
'''


def test_the_check_catches_what_chromium_used_to_do():
    violations, tolerated = outside_traffic(BEFORE, isolated=True)
    text = "\n".join(violations)
    assert len(violations) == 6  # the probe (strict when isolated), the DNS connect, three look-ups, the HTTPS connect
    assert "connect to 2001:4860:4860::8888:443" in text and "DNS to 10.255.255.53" in text
    for name in ("clients2.google.com", "accounts.google.com", "update.googleapis.com"):
        assert f"look-up of {name}" in text
    assert "connect to 142.250.74.46:443" in text
    violations, tolerated = outside_traffic(BEFORE, isolated=False)
    assert len(violations) == 5 and len(tolerated) == 1  # only the probe is tolerated, and only without isolation
