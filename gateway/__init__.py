"""onewindow's HTTP gateway: the workflow contract for intake systems and departments not written in Python.

A thin translation of HTTP onto ``workflows.client.Cases``; every rule stays in the engine. Run it beside
the worker with ``python -m gateway --tokens PATH`` (or ``ONEWINDOW_GATEWAY_TOKENS``).

- ``tokens``: the token file; a bearer token names the caller, an ``Actor``, which gives every command
  and reads only what its role covers.
- ``limits``: at most ``MAX_BODY_BYTES`` a body (413), and a rate per token (429 with ``Retry-After``).
- ``bodies``: request bodies derived from the engine's commands and intake, validated strictly.
- ``errors``: the gateway's error types, their statuses and the handlers that answer them.
- ``service``: what each endpoint does with ``Cases``; ``dependencies``: the caller, the service.
- ``routers``: one router per resource (applications, lists, calendar); ``app``: ``create_app``, the
  OpenAPI document and the offline /docs; ``server``: the options, ``http_server`` and ``main``.
"""

from gateway.app import create_app
from gateway.errors import TokenFileInvalid
from gateway.limits import MAX_BODY_BYTES, RateLimiter, RateLimits
from gateway.server import http_server, main
from gateway.tokens import EXAMPLE_TOKENS, TOKENS_VARIABLE, TokenBook, token_digest

__all__ = [
    "EXAMPLE_TOKENS",
    "MAX_BODY_BYTES",
    "TOKENS_VARIABLE",
    "RateLimiter",
    "RateLimits",
    "TokenBook",
    "TokenFileInvalid",
    "create_app",
    "http_server",
    "main",
    "token_digest",
]
