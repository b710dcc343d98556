"""The Chromium that draws exports: found on this machine, quiet, and unable to reach the network.

Kaleido starts Chromium through choreographer, whose own flags already turn
off sync, component updates, breakpad, the first-run page and the default
browser check.  Debian's chromium still looked up accounts.google.com,
update.googleapis.com, clients2.google.com, optimizationguide-pa.googleapis.com
and start.duckduckgo.com on every start (seen with strace; the requests were
IdentityManager's ListAccounts, the component updater, the network-time
tracker, optimization-guide model downloads and the new-tab page).  So:

- QUIET_FLAGS turn off each background service by name, point the component
  updater at a file, and open about:blank instead of the new-tab page;
- `--host-resolver-rules=MAP * ~NOTFOUND` makes every host name fail inside
  Chromium: whatever a future version adds, it cannot send a DNS query;
- where the kernel allows it (root, or unprivileged user namespaces as on
  Debian), Chromium runs in a network namespace of its own that has no
  interface but a loopback that is down.  Nothing can leave, and Chromium,
  seeing itself offline, does not even try: ListAccounts and the IPv6
  reachability probe (a UDP connect to Google's DNS address that no flag
  turns off) are then gone too.  tests/test_export_network.py checks it all
  with strace.

Every Chromium is started by chromium_launch.py, which ties it to its owner
(see there).
"""
from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

from .. import config
from .checks import ExportError

CHROMIUM_HELP = "install Debian's chromium package or set BROWSER_PATH"
LAUNCHER = Path(__file__).resolve().with_name("chromium_launch.py")
QUIET_FLAGS = [
    "--disable-background-networking",
    "--disable-component-update",
    "--component-updater=url-source=file:///dev/null/",
    "--disable-sync",
    "--no-default-browser-check",
    "--no-first-run",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-component-extensions-with-background-pages",
    "--metrics-recording-only",
    "--disable-breakpad",
    "--disable-crash-reporter",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--disable-features=OptimizationHints,OptimizationGuideModelDownloading,Translate,MediaRouter,"
    "DialMediaRouteProvider,NetworkTimeServiceQuerying,AutofillServerCommunication,CertificateTransparencyComponentUpdater",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]
START_PAGE = "about:blank"  # the first tab; without it Chromium loads the search engine's new-tab page
ISOLATE = ["unshare", "--user", "--map-root-user", "--net"]


def find_chromium() -> str:
    """Debian's chromium, or the browser $BROWSER_PATH names; never a download."""
    configured = config.BROWSER_PATH
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise ExportError(f"Chromium not found at BROWSER_PATH={configured}: {CHROMIUM_HELP}")
    for candidate in (shutil.which("chromium"), "/usr/bin/chromium", shutil.which("chromium-browser")):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise ExportError(f"Chromium not found: {CHROMIUM_HELP}")


@functools.cache
def network_isolation() -> list[str]:
    """The command prefix that runs a program without network, or [] where the kernel refuses."""
    if not shutil.which(ISOLATE[0]):
        return []
    try:
        done = subprocess.run([*ISOLATE, "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    return ISOLATE if done.returncode == 0 else []


def browser_class(isolate: bool = True):
    """A choreographer browser class for kaleido: QUIET_FLAGS, our launcher, no network where possible."""
    from choreographer.browsers.chromium import Chromium

    prefix = network_isolation() if isolate else []

    class QuietChromium(Chromium):
        def get_cli(self):
            cli = list(super().get_cli())
            # choreographer runs [python, its wrapper, chromium, flags...]; ours ties chromium to its owner.
            if cli[:1] == [sys.executable] and len(cli) > 2 and cli[2] == str(self.path):
                cli = [sys.executable, str(LAUNCHER), str(os.getpid()), *prefix, *cli[2:]]
            return [*cli, *QUIET_FLAGS, START_PAGE]

    QuietChromium.isolated = bool(prefix)
    return QuietChromium
