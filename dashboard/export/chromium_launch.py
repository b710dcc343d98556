"""Starts Chromium for kaleido and makes sure it dies with its owner (run as a script, not imported).

    python chromium_launch.py OWNER_PID [unshare ...] chromium FLAGS...

choreographer runs its own wrapper the same way (without OWNER_PID), with
the DevTools pipe as standard input and output; chromium wants the pipe on
file descriptors 3 and 4, which is all that wrapper does.  This one also:

- asks the kernel to send it SIGTERM when the thread that started it (the
  renderer's browser thread) ends, for any reason, SIGKILL included
  (prctl PR_SET_PDEATHSIG), and quits if its owner is already gone;
- starts chromium with PR_SET_PDEATHSIG=SIGKILL, so chromium dies with it;
- on SIGTERM or SIGINT stops chromium (5 s to close, then killed).

Chromium's own helpers (zygote, renderers, GPU, network service) leave when
the browser process goes; they share this process's session, so an owner
can also kill them all at once with os.killpg.  A third guard needs nothing
from us: when the owner dies its end of the DevTools pipe closes and
chromium quits.
"""
import os

# File descriptors first: importing modules may open files and take 3 or 4.
os.dup2(0, 3)
os.dup2(1, 4)
os.set_inheritable(3, True)
os.set_inheritable(4, True)

import ctypes  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402

PR_SET_PDEATHSIG = 1


def die_with_parent(sig: int) -> None:
    """The calling process gets `sig` when its parent thread ends (Linux; elsewhere nothing)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def main() -> int:
    owner, command = int(sys.argv[1]), sys.argv[2:]
    die_with_parent(signal.SIGTERM)
    if os.getppid() != owner:  # the owner died before the guard was set
        return 1
    chromium = subprocess.Popen(command, pass_fds=(3, 4), preexec_fn=lambda: die_with_parent(signal.SIGKILL))  # noqa: PLW1509 -- this process has one thread

    def stop(signum, frame):
        chromium.terminate()
        try:
            chromium.wait(5)
        except subprocess.TimeoutExpired:
            chromium.kill()
        sys.exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    code = chromium.wait()
    # The pipe is not always closed when chromium ends: say goodbye as
    # choreographer's wrapper does, so the reader stops.
    print("{bye}", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
