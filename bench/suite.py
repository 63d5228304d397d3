"""(e) The whole test suite's wall time, as ``make unit`` runs it (workflow code byte-compiled first).

.venv/bin/python -m bench.suite
"""

from __future__ import annotations

import compileall
import subprocess
import sys
import time


def main() -> None:
    """Run pytest once, in a process of its own, and print how long it took."""
    for package in ("workflows", "activities"):
        compileall.compile_dir(package, quiet=1)
    started = time.perf_counter()
    ran = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], check=False)
    elapsed = time.perf_counter() - started
    print(f"\nsuite wall time: {elapsed:.0f} s (pytest exit code {ran.returncode})")
    sys.exit(ran.returncode)


if __name__ == "__main__":
    main()
