"""Logging for every entry point: structlog key/value events, JSON lines when not on a terminal."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

import structlog
from structlog.typing import EventDict, WrappedLogger
from temporalio import activity, workflow


def _drop_colour_duplicates(_: WrappedLogger, __: str, event: EventDict) -> EventDict:
    """uvicorn repeats its message with terminal colours in ``color_message``; keep the plain one."""
    event.pop("color_message", None)
    return event


class _CurrentStderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time of each record, not the one at configuration.

    A process that replaces stderr after start-up (a test capturing output, a daemon redirecting it) would
    otherwise leave the handler writing to a closed file.
    """

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self) -> TextIO:
        return sys.stderr


def configure_logging() -> None:
    """structlog once per process, for structlog and stdlib loggers alike (Temporal's workflow/activity
    loggers): JSON lines when not on a terminal, readable console otherwise; ``extra`` fields such as the
    application id become keys of the event.
    """
    shared: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Plain tracebacks on a terminal too: the rich ones print every frame's locals, personal data among them.
    renderer: structlog.typing.Processor = (
        structlog.dev.ConsoleRenderer(exception_formatter=structlog.dev.plain_traceback)
        if sys.stderr.isatty()
        else structlog.processors.JSONRenderer()
    )
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
    )
    handler = _CurrentStderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.ExtraAdder()],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                _drop_colour_duplicates,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    logging.basicConfig(level=logging.INFO, handlers=[handler], force=True)
    # The workflow/activity context travels as structured extra fields, not appended to the message.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
