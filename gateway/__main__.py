"""``python -m gateway --tokens FILE``: the HTTP gateway beside a running worker (``--help`` for options)."""

from gateway.server import main
from workflows.client import exit_process

if __name__ == "__main__":
    exit_process(main())  # after a clean shutdown: the interpreter's teardown could still abort (see there)
