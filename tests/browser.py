"""A real browser for the console's tests: Debian's Chromium, installed here when missing (CI starts from a
clean clone), driven by Playwright's Python driver, which is told where that binary is and never downloads
a browser of its own; and the gateway served over HTTP on a free loopback port, as ``make run`` serves it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn
from fastapi import FastAPI

CHROMIUM_PACKAGES = ("chromium", "fonts-noto-cjk")
# What the machine's probe found Chromium needs here: no sandbox as root, and none of its calls home
# (the network is closed; they would be refused, many at a time).
CHROMIUM_FLAGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)


def chromium() -> Path:
    """Debian's Chromium, installed with the CJK fonts by ``apt-get`` when either is not on the machine."""
    if _missing(CHROMIUM_PACKAGES):
        sudo = [] if os.geteuid() == 0 else ["sudo", "-n"]
        # Another apt (a fresh machine's own upgrades) may hold dpkg's lock: wait for it, not fail.
        apt = [*sudo, "apt-get", "-o", "DPkg::Lock::Timeout=600"]
        install = [*apt, "install", "-y", "--no-install-recommends", *CHROMIUM_PACKAGES]
        environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        if subprocess.run(install, env=environment, check=False).returncode != 0:  # noqa: S603 - fixed argv
            subprocess.run([*apt, "update"], env=environment, check=True)  # noqa: S603
            subprocess.run(install, env=environment, check=True)  # noqa: S603
    found = shutil.which("chromium")
    if not found:
        raise RuntimeError(f"no chromium on PATH; install the Debian packages {' '.join(CHROMIUM_PACKAGES)}")
    return Path(found)


def _missing(packages: tuple[str, ...]) -> bool:
    """Whether a Debian package is not installed (without dpkg: whether chromium is not on PATH)."""
    if shutil.which("dpkg-query") is None:
        return shutil.which("chromium") is None
    for package in packages:
        status = subprocess.run(  # noqa: S603 - fixed argv
            ["dpkg-query", "-W", "-f=${Status}", package],  # noqa: S607 - on PATH by design
            capture_output=True,
            text=True,
            check=False,
        )
        if status.stdout.strip() != "install ok installed":
            return True
    return False


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """``app`` served by uvicorn on loopback for the test's duration; its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
