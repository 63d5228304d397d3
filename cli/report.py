"""Supervision's commands: ``onewindow report``, the city's figures (办结率, 按时办结率, 满意率, warnings,
overdue, 网上可办率, 最多跑一次) per department and per matter, read from Temporal's visibility (``GET
/report`` gives the same); ``onewindow finding``, a supervision finding on an issued licence, kept in the
applicant's credit register (``POST /applications/{id}/findings``)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import date, datetime

from cli.arguments import Commands, Parser, add_as, subcommand
from cli.connection import Connection
from cli.errors import EXIT_OK
from cli.render import NO_VALUE, table
from workflows.domain.calendar import SHANGHAI, deadline_text
from workflows.domain.figures import GroupFigures, Rate, Report, share
from workflows.reference_data import load_catalogue
from workflows.reports import city_report


async def figures(args: argparse.Namespace, connection: Connection) -> int:
    """The figures of the cases due in the range, as the reader's role covers them."""
    cases = await connection.cases()
    found = await city_report(
        cases,
        args.first_day,
        args.last_day,
        reader=args.actor,
        now=datetime.now(SHANGHAI),
        catalogue=load_catalogue(),
    )
    print(found.model_dump_json(indent=2) if args.json else report_text(found))
    return EXIT_OK


def _rate(rate: Rate | None) -> str:
    """``4/6 66.7% missed``: the parts, the share and the target's verdict."""
    if rate is None:
        return NO_VALUE
    verdict = "" if rate.met is None else (" met" if rate.met else " missed")
    return f"{rate.numerator}/{rate.denominator} {share(rate.value)}{verdict}"


_RATES = ("办结率", "按时办结率", "满意率")


def _rows(groups: Sequence[GroupFigures]) -> list[list[str]]:
    rows = []
    for group in groups:
        rates = {rate.name: rate for rate in group.rates}
        averages = NO_VALUE
        if group.average_counted_days is not None:
            averages = f"{group.average_counted_days:g}/{group.average_elapsed_days:g}"
        rows.append(
            [
                group.kind.value,
                group.group,
                str(group.counts["due"]),
                str(group.in_progress),
                *(_rate(rates.get(name)) for name in _RATES),
                "/".join(str(group.warnings[level]) for level in ("notice", "yellow", "red")),
                averages,
            ]
        )
    return rows


_HEADERS = ("kind", "{}", "due", "in progress", *_RATES, "notice/yellow/red", "counted/elapsed days")


def report_text(found: Report) -> str:
    """The report as a supervisor reads it in a terminal: totals, departments, matters, overdue, service."""
    as_of = found.as_of.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")
    parts = [f"deadlines {found.first_day} to {found.last_day}, as of {as_of} (Shanghai)"]
    for title, groups in (
        ("all", found.totals),
        ("department", found.by_department),
        ("matter", found.by_matter),
    ):
        columns = [header.format(title) for header in _HEADERS]
        parts.append(table(columns, _rows(groups)) if groups else f"no cases by {title}")
    overdue = [
        [
            o.case_id,
            o.kind.value,
            ",".join(o.departments),
            deadline_text(o.deadline),
            str(o.days_late),
            NO_VALUE if o.explanation_owed is None else ("owed" if o.explanation_owed else "given"),
        ]
        for o in found.overdue
    ]
    headers = ("overdue", "kind", "departments", "deadline", "days late", "explanation (第36条)")
    parts.append(table(headers, overdue) if overdue else "nothing overdue")
    service = [
        [
            s.name,
            f"{s.numerator}/{s.denominator}",
            share(s.value),
            share(s.target),
            NO_VALUE if s.met is None else ("met" if s.met else "missed"),
        ]
        for s in found.service
    ]
    parts.append(table(("service", "cases", "share", "target", ""), service))
    return "\n\n".join(parts)


async def finding(args: argparse.Namespace, connection: Connection) -> int:
    """Keep the finding in the applicant's credit register: it bars 容缺 and 告知承诺 from now."""
    cases = await connection.cases()
    recorded = await cases.record_finding(args.application_id, args.finding, reader=args.actor)
    print(
        recorded.model_dump_json(indent=2) if args.json else f"recorded {recorded.kind.value} {recorded.key}"
    )
    return EXIT_OK


def add_report(commands: Commands, parents: Sequence[Parser]) -> None:
    """``report --from DAY --to DAY``."""
    command = subcommand(
        commands,
        "report",
        figures,
        "the city's figures: 办结率, 按时办结率, 满意率, warnings, overdue, per department and matter",
        description=(
            "Cases and complaints whose deadline falls in the range (Shanghai days), read from Temporal "
            "visibility. A case is due once done or once its deadline has passed; one whose deadline is "
            "still ahead is in progress. Formulas: workflows/data/figures.toml."
        ),
        parents=list(parents),
    )
    add_as(command, "who reads (supervision: every department; a department: its own)")
    command.add_argument("--from", dest="first_day", type=date.fromisoformat, required=True, metavar="DAY")
    command.add_argument("--to", dest="last_day", type=date.fromisoformat, required=True, metavar="DAY")
    found = subcommand(
        commands,
        "finding",
        finding,
        "a supervision finding on an issued licence: a credit record against its holder",
        description=(
            "审批监管联动's way back: the finding is kept in the applicant's credit register (once per text "
            "and case) and bars 容缺 and 告知承诺 for the bar period, on every worker."
        ),
        parents=list(parents),
    )
    found.add_argument("application_id", metavar="ID", help="the case whose licence the finding concerns")
    found.add_argument("--finding", required=True, metavar="TEXT", help="what supervision found")
    add_as(found, "who records it (supervisor, or a supervising department's head)")
