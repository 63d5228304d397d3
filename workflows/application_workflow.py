"""ApplicationWorkflow: one application, from the intake system to the licence.

Temporal's history is the event store: every domain event is produced by ``decide`` inside a workflow
task and kept in the workflow, so replaying the history rebuilds the same log. The calendar and warning
thresholds are pinned in the case when it registers (an activity whose result is in history: R-CAL-4), so
deadlines are computed in the workflow itself, and enforced by one durable timer re-armed whenever the
state changes. The workflow orchestrates; every rule is in ``workflows.domain``; everything that reaches
it from outside passes ``workflows.boundary``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeAlias

from pydantic import ValidationError
from temporalio import workflow
from temporalio.common import Priority, RawValue, SearchAttributeKey
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.orchestration import CaseWorkflow, gather_all

# The pure modules workflow code shares, passed through the sandbox (imported once per worker):
with workflow.unsafe.imports_passed_through():
    import workflows.search_attributes as search_attributes  # noqa: PLR0402 - see workflows.registry
    from workflows.boundary import decode, invalid, refusal, still_registering
    from workflows.domain.access import admit, case_readers, may_read
    from workflows.domain.application import (
        ENGINE,
        PEOPLE_COMMANDS,
        REPEAT_LIMITS,
        ApplicationState,
        Effect,
        ScheduledCommand,
        deadlines,
        decide,
        effects_of,
        evolve,
        next_timer,
        plan_request,
        ready_to_issue,
        report_facts,
        start,
    )
    from workflows.domain.calendar import local_date
    from workflows.domain.clock import PlanRequest
    from workflows.domain.commands import (
        AcceptWithDeficiencies,
        ApplicationCommand,
        ChangeGreenChannel,
        ConfirmSimulation,
        CreditStanding,
        DeemAccepted,
        EndWithProject,
        IssueLicence,
        LinkComplaint,
        RaiseWarning,
        RecordDeadlines,
        ReviseDeadlineRules,
        ReviseTrustedKeys,
        SubmitApplication,
    )
    from workflows.domain.credit import CreditRecordKind
    from workflows.domain.errors import (
        DeficiencyNotTolerable,
        OneWindowError,
        StewardAtCapacity,
        Unauthenticated,
    )
    from workflows.domain.events import (
        Actor,
        ApplicationEvent,
        ApplicationSubmitted,
        ConsultationFindings,
        GreenChannelChanged,
        LicenceRevoked,
        SignerAdded,
        SignerRemoved,
        StepAssigned,
        StepUrged,
        WarningRaised,
    )
    from workflows.domain.values import MAX_NAME
    from workflows.identity import key_id_of
    from workflows.messages import (
        APPLICATION_COMMANDS,
        APPLICATION_INTAKES,
        ApplicantNotice,
        ApplicationView,
        CatalogueEntry,
        ComplaintLink,
        CreditEntry,
        CreditQuery,
        DepartmentNotice,
        Escalation,
        EventsPage,
        Intake,
        LicenceRequest,
        LicenceRevocation,
        OutsideCall,
        PartOf,
        PriorityChange,
        ProcessOutcome,
        ReadRequest,
        SecurityContext,
        SupervisionPush,
        priority_of,
    )
    from workflows.read_model import APPLICATION_READS
    from workflows.steward_register import StewardSlot
# While the deadlines reach a year without calendar data, the case looks for it again this often, besides
# an announced revision (R-CAL-4).
_CALENDAR_RECHECK = timedelta(days=1)
# Cases registered since signed commands, the number claim and the audit log (issue 8); histories
# recorded before replay as they ran.
_SECURED = "signed-commands-number-claim-audit-log"
# Cases registered (or given a steward) since a steward's open cases are counted hold a slot with their
# steward; histories recorded before replay as they ran, holding none.
_STEWARD_CAPACITY = "steward-capacity"
# Cases registered since green-channel cases have internal targets are held to them; histories recorded
# before replay without (their deadlines were planned without one).
_INTERNAL_TARGETS = "internal-targets"
# Cases registered since the city's figures are read from visibility keep their search attributes;
# histories recorded before replay upserting what they did.
_REPORTED = "report-attributes"
# Cases that wake since then record each further deadline already due (a deemed acceptance dates the
# review from the receipt, so its first warning is due at once; or deadlines passed while no worker ran)
# in the one workflow task, their effects in one activity; histories recorded before replay one per task.
# A case since ``VERSIONS_OF_8_DECEMBER`` does so without a marker of its own.
_DUE_TOGETHER = "deadlines-due-together"
# How a project or an establishment ends without its results: its open matters end with it.
# Complaints read in one go when several say they concern the case; more are ignored until read.
_COMPLAINTS_READ_AT_ONCE = 10
_PROCESS_FAILED = frozenset({"withdrawn", "denied", "abandoned", "lapsed", "not_for_use"})


if TYPE_CHECKING:
    # Callers send the typed messages; the worker hands the workflow their raw payloads, which it decodes
    # itself (``workflows.boundary``). The SDK reads these hints at run time, where they are RawValue.
    IntakePayload: TypeAlias = Intake | RawValue
    CommandPayload: TypeAlias = ApplicationCommand | RawValue
else:
    IntakePayload = CommandPayload = RawValue


def _command(payload: CommandPayload) -> ApplicationCommand:
    """The command in an update's payload, chosen by its ``kind``."""
    return decode(payload, APPLICATION_COMMANDS, "command", PEOPLE_COMMANDS)


@workflow.defn
class ApplicationWorkflow(CaseWorkflow[ApplicationState, ApplicationEvent, ApplicationCommand]):
    """One case; the workflow id is the application number."""

    _reads = APPLICATION_READS

    def __init__(self) -> None:
        super().__init__()
        self._planned_for: tuple[PlanRequest, str] | None = None
        self._calendar_revision_requested = False
        self._credit_refused: str | None = None  # 容缺's credit check said no: asking again changes nothing
        self._part_of: PartOf | None = None  # set for a matter of a project
        self._told_project: object = None  # what the project last heard of this case
        self._project_check_requested = False
        self._reported = False  # keeps the figures' search attributes (cases registered since they exist)
        self._complaints_to_read: list[str] = []  # complaints that said they concern this case
        self._steward_slot: Actor | None = None  # the steward whose register holds this case
        self._stewards = asyncio.Lock()  # one change of steward at a time: each decides on the case as it is

    # --- the case's life ---------------------------------------------------------------------------------

    @workflow.run
    async def run(self, intake: IntakePayload) -> ApplicationView:
        """Pin the catalogue entry and the deadline rules in force, record the submission, then follow the
        case until it closes.

        ``intake`` is an ``Intake`` as JSON, decoded here rather than by the SDK: an intake that does not
        decode fails the case at once with a typed InvalidCommand (its number free again), instead of
        failing its first workflow task over and over.
        """
        await self._register(decode(intake, APPLICATION_INTAKES, "intake"))
        while True:
            # Updates may record events while this loop awaits an activity: a change since ``seen`` is
            # acted on at once rather than at the next change or deadline.
            seen = self._current.version
            effects = self._perform_effects(audited=self._since(_SECURED), drain=False)
            if ready_to_issue(self._current) and (self._part_of is not None or self._one_round_trip):
                # The licence beside the approval's effects (and a matter's news to its project): one
                # round trip; a case from before ``ONE_ROUND_TRIP_PER_CHANGE`` issues after them.
                await gather_all(effects, self._tell_project(), self._issue())
                continue
            # A matter of a project tells it while its effects are performed (one round trip, not two).
            await gather_all(effects, self._tell_project())
            if self._project_check_requested and not self._current.closed:
                await self._follow_project()
                continue
            if self._calendar_revision_requested and not self._current.closed:
                await self._revise_rules()
                continue
            if self._complaints_to_read and not self._current.closed:
                await self._link_complaints()
                continue
            if self._current.closed:
                break
            if ready_to_issue(self._current):
                await self._issue()
                continue
            await self._wait_for_change_or_deadline(seen)
        await self._perform_effects(audited=self._since(_SECURED))
        await self._tell_project()
        async with self._stewards:  # closed: the steward may take another case
            await self._release_slot()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self._view()

    async def _register(self, intake: Intake) -> None:
        """Verify who submits, pin what the case counts with, claim its number, and record the submission.

        Anything refused here fails the case before it claims its number, which is then free again.
        """
        # The case's versions are read before any local activity: a patch marker decided in the activation
        # a local activity's result arrives in may be recorded before or after that result's marker, and a
        # replay that meets them in the other order fails (seen on queries of closed cases). A case since
        # ``ONE_ROUND_TRIP_PER_CHANGE`` has every earlier version, and one marker instead of their four;
        # one since ``VERSIONS_OF_8_DECEMBER`` has every version with that one marker.
        self._start_version()
        secured = self._since(_SECURED)
        internal_targets = self._since(_INTERNAL_TARGETS)
        counts_stewards = self._since(_STEWARD_CAPACITY)
        self._reported = self._since(_REPORTED)
        started_at = self._now()  # the registration's instant: its reads are local activities
        year = local_date(intake.received_at).year
        context: SecurityContext | None = None
        self._part_of = self._vouched_part(intake)
        if self._part_of is not None:
            # A matter of a project: the project verified the applicant and pinned the entry, the rules
            # and the keys; the matter counts and trusts as its project does.
            part = self._part_of
            context, rules = part.security, part.rules
            self._trusted, self._chain_hash = context.trusted, context.chain_hash
            entry = CatalogueEntry(catalogue_version=part.catalogue_version, matter=part.matter)
        elif secured:
            # The keys, the catalogue and the calendar are the worker's own data: read side by side,
            # in the worker (local activities), with no round trip to the server.
            context, entry, rules = await gather_all(
                self._verified_context(intake),
                self._local("lookup_matter", intake.matter_code, CatalogueEntry),
                self._deadline_rules(year, reload=False),
            )
        else:
            entry = await self._call("lookup_matter", intake.matter_code, CatalogueEntry)
            rules = await self._deadline_rules(year, reload=False)
        credit = None
        if intake.commitment is not None:  # 告知承诺制 trusts the applicant's word: their credit first
            applicant_key = context.applicant_key if context else None
            credit = await self._credit_standing(intake.applicant.id_number, applicant_key, started_at)
        consultation = None
        if intake.consultation_id is not None:  # 提前介入: what the consultation found, read from Temporal
            consultation = await self._call("read_consultation", intake.consultation_id, ConsultationFindings)
        try:
            submission = SubmitApplication(
                application_id=workflow.info().workflow_id,
                catalogue_version=entry.catalogue_version,
                matter=entry.matter,
                rules=rules,
                applicant_key=context.applicant_key if context else None,
                trusted_keys=context.trusted.key_ids if context else (),
                simulated=self._part_of.simulated if self._part_of else False,
                credit=credit,
                consultation=consultation,
                internal_targets=internal_targets,
                **intake.model_dump(exclude={"matter_code", "assertion", "part_of", "consultation_id"}),
            )
        except ValidationError as error:
            raise invalid("submission", error) from None
        decided_at = started_at if secured else self._now()
        with self._clock_stopped_at(decided_at):
            events = self._decide(submission)
        steward = intake.steward
        if steward is not None and self._part_of is None and counts_stewards:
            await self._hold_slot(steward)  # before the number is claimed: refused, it is free again
            self._steward_slot = steward
        if secured:
            try:
                await self._claim_number()
            except ApplicationError:  # registered before: this start holds no case after all
                await self._release_slot()
                raise
        with self._clock_stopped_at(decided_at):
            self._record(events, signed_by=key_id_of(intake.assertion))

    @staticmethod
    def _vouched_part(intake: Intake) -> PartOf | None:
        """The project this case is a matter of, if its start came from that project; a stranger's
        intake naming a project is refused (only the project itself starts its matters)."""
        if intake.part_of is None:
            return None
        parent = workflow.info().parent
        if parent is None or parent.workflow_id != intake.part_of.project_id:
            raise refusal(Unauthenticated("a matter of a project is started by that project only"))
        return intake.part_of

    async def _tell_project(self) -> None:
        """A matter of a project tells it whenever its status or warning changes; the project then reads
        the case from Temporal itself (a signal carries nothing a forger could use)."""
        if self._part_of is None:
            return
        state = self._current
        news = (state.status, state.warning_raised())
        if news == self._told_project:
            return
        self._told_project = news
        project = workflow.get_external_workflow_handle(self._part_of.project_id)
        try:
            await project.signal("part_changed")
        except Exception as error:
            workflow.logger.info("project_not_told", extra={"error": type(error).__name__})

    async def _follow_project(self) -> None:
        """The project said it changed: read its outcome from Temporal and end with it if it ended."""
        self._project_check_requested = False
        if self._part_of is None:
            return
        asked_at = self._now()
        outcome = await self._call("read_project", self._part_of.project_id, ProcessOutcome)
        state = self._current
        if state.closed:
            return
        with self._clock_stopped_at(asked_at):
            if outcome.closed and outcome.status in _PROCESS_FAILED:
                reason = outcome.reason or outcome.status
                self._apply(EndWithProject(actor=ENGINE, reason=reason, project_status=outcome.status))
            elif outcome.evidence and state.simulated:
                self._apply(ConfirmSimulation(actor=ENGINE, evidence=outcome.evidence))

    async def _revise_rules(self) -> None:
        """R-CAL-4: count with the calendar as the workers have it now (nothing is recorded if unchanged)."""
        self._calendar_revision_requested = False
        asked_at = self._now()
        rules = await self._deadline_rules(local_date(self._current.received_at).year, reload=True)
        if not self._current.closed:  # a decision may have closed the case meanwhile
            with self._clock_stopped_at(asked_at):
                self._apply(ReviseDeadlineRules(actor=ENGINE, rules=rules))

    async def _link_complaints(self) -> None:
        """12345/8890: read each complaint that said it concerns this case, and link the ones that do."""
        asked_at = self._now()
        numbers, self._complaints_to_read = self._complaints_to_read, []
        links = await gather_all(*(self._complaint(number) for number in numbers))
        own = workflow.info().workflow_id
        for link in links:
            state = self._current
            if (
                link is None
                or state.closed
                or link.application_id != own
                or link.complaint_id in state.complaints
            ):
                continue
            if state.repeats.get("complaint_linked", 0) >= REPEAT_LIMITS["complaint_linked"]:
                continue  # the complaint still names the case; its log is full of links already
            command = LinkComplaint(
                actor=ENGINE,
                complaint_id=link.complaint_id,
                category_code=link.category_code,
                department=link.department,
            )
            with self._clock_stopped_at(asked_at):
                self._apply(command)

    async def _complaint(self, number: str) -> ComplaintLink | None:
        """The complaint ``number`` as it reads itself; None when there is no such complaint (a forged or
        mistaken signal must not end the case)."""
        try:
            return await self._call("read_complaint", number, ComplaintLink)
        except ActivityError:
            workflow.logger.info("no_such_complaint", extra={"complaint_id": number[:64]})
            return None

    async def _wait_for_change_or_deadline(self, version: int) -> None:
        """Sleep on one durable timer, unless the case moved on from ``version``."""
        state = self._current
        scheduled = next_timer(state)
        wake_at = scheduled.at if scheduled else None
        calendar_missing = state.plan is not None and state.plan.calendar_missing is not None
        if calendar_missing:
            recheck_at = self._now() + _CALENDAR_RECHECK
            wake_at = min(wake_at, recheck_at) if wake_at else recheck_at
        if not await self._sleep_until_changed(version, wake_at, self._asked):
            return
        if scheduled is None or self._now() < scheduled.at:
            self._calendar_revision_requested = calendar_missing  # look for the missing year's data again
            return
        self._record(self._deadline_passed(scheduled))
        while (due := self._also_due()) is not None and (
            self._since_8_december or workflow.patched(_DUE_TOGETHER)
        ):
            self._record(self._deadline_passed(due))

    def _asked(self) -> bool:
        """Whether the main loop is asked to act: a calendar revision, a project's check, complaints."""
        return (
            self._calendar_revision_requested
            or self._project_check_requested
            or bool(self._complaints_to_read)
        )

    def _deadline_passed(self, scheduled: ScheduledCommand) -> tuple[ApplicationEvent, ...]:
        """The events of a deadline that has passed, decided by the engine."""
        try:
            return decide(self._current, scheduled.command, self._now())
        except OneWindowError as error:
            # next_timer and decide disagree: a bug. Failing the workflow task (retried after a fix) keeps
            # the case; failing the workflow would end it.
            raise RuntimeError(f"the engine's own {scheduled.command.kind} was refused: {error}") from error

    def _also_due(self) -> ScheduledCommand | None:
        """The next deadline if it is due too (the loop would record it at once, after the previous one's
        effects): a warning or a deemed acceptance. A deadline that closes the case waits for those
        effects, told from the case as it was (a warning goes to the departments reviewing it)."""
        scheduled = next_timer(self._current)
        if scheduled is None or scheduled.at > self._now():
            return None
        return scheduled if isinstance(scheduled.command, DeemAccepted | RaiseWarning) else None

    def _consequences(self) -> tuple[ApplicationEvent, ...]:
        """The deadlines recomputed when what they depend on has changed (pure: the rules are pinned)."""
        state = self._current
        basis = (plan_request(state), state.rules.version)
        if state.closed or basis == self._planned_for:
            return ()
        self._planned_for = basis
        return self._decide(RecordDeadlines(actor=ENGINE, plan=deadlines(state, self._now())))

    def _since(self, version: str) -> bool:
        """Whether the case runs as ``version`` has it: every case since ``ONE_ROUND_TRIP_PER_CHANGE``
        does (with no marker of its own), an earlier one as its history says."""
        return self._one_round_trip or workflow.patched(version)

    async def _credit_standing(
        self, applicant_id: str, applicant_key: str | None, at: datetime
    ) -> CreditStanding:
        """The credit register's word on the applicant at ``at`` (容缺, 告知承诺), wherever they applied."""
        query = CreditQuery(applicant_id=applicant_id, applicant_key=applicant_key, at=at)
        return await self._call("check_credit", query, CreditStanding)

    async def _change_green_channel(self, command: ChangeGreenChannel) -> None:
        """绿色通道: a new steward's slot is held before the change is recorded and the previous steward's
        freed after it, so a steward never holds more open cases than they may.

        A matter of a project holds none (it counts with its project), nor does a case whose history
        began its green channel before stewards were counted.
        """
        async with self._stewards:
            current = self._current.steward
            new = command.steward
            joining = (
                new
                if new is not None
                and (current is None or current.key != new.key)
                and self._part_of is None
                and self._since(_STEWARD_CAPACITY)
                else None
            )
            if joining is not None:
                await self._hold_slot(joining)
            try:
                self._apply(command, signed_by=key_id_of(command.assertion))
            except ApplicationError:  # the case moved on while the slot was asked for (it closed)
                if joining is not None:
                    await self._release(joining)
                raise
            await self._release_slot()
            self._steward_slot = joining

    async def _hold_slot(self, steward: Actor) -> None:
        """A slot with ``steward`` for this case, or ``StewardAtCapacity`` when they have none free."""
        if not await self._call("hold_steward", self._slot_with(steward), bool):
            raise refusal(StewardAtCapacity("the steward already holds as many open cases as they may"))

    async def _release_slot(self) -> None:
        """Free the slot the case holds with its steward, if it holds one; once."""
        steward, self._steward_slot = self._steward_slot, None
        if steward is not None:
            await self._release(steward)

    async def _release(self, steward: Actor) -> None:
        await self._call("release_steward", self._slot_with(steward))

    def _slot_with(self, steward: Actor) -> StewardSlot:
        """The case's slot with ``steward``, keyed by the case's events so far."""
        sequence = self._state.version if self._state else 0
        return StewardSlot(steward_id=steward.id, case_id=workflow.info().workflow_id, sequence=sequence)

    async def _issue(self) -> None:
        state = self._current
        request = LicenceRequest(
            key=self._key(state.version),
            application_id=state.application_id,
            matter_code=state.matter.code,
            matter_name=state.matter.name,
            applicant=state.applicant,
        )
        number = await self._call("issue_licence", request, str)
        self._apply(IssueLicence(actor=ENGINE, licence_number=number))

    def _calls_of(self, event: ApplicationEvent, key: str) -> Iterator[tuple[str, OutsideCall]]:
        for effect in effects_of(event):
            yield effect.value, self._outside_message(effect, event, key)

    def _outside_message(self, effect: Effect, event: ApplicationEvent, key: str) -> OutsideCall:  # noqa: PLR0911 - a case per effect
        state = self._current
        base = {"key": key, "application_id": state.application_id}
        match effect:
            case Effect.NOTIFY_APPLICANT:
                details = event.model_dump(mode="json", exclude={"kind", "at", "actor", "reason"})
                return ApplicantNotice(
                    **base, applicant=state.applicant, notice=event.kind, text=event.reason, details=details
                )
            case Effect.PUSH_TO_SUPERVISION:
                return SupervisionPush(
                    **base,
                    matter_code=state.matter.code,
                    departments=state.departments,
                    result=event.kind,
                    licence_number=state.licence_number,
                )
            case Effect.REVOKE_LICENCE:
                return LicenceRevocation(
                    **base, licence_number=state.licence_number or "", reason=event.reason
                )
            case Effect.WRITE_CREDIT_RECORD:
                # A revocation naming no missing material is a commitment found untrue (告知承诺);
                # any other record, a 容缺 promise broken (abandoned, or revoked after issuance).
                untrue = isinstance(event, LicenceRevoked) and not event.missing
                kind = (
                    CreditRecordKind.FALSE_COMMITMENT
                    if untrue
                    else CreditRecordKind.DEFICIENCY_COMMITMENT_BROKEN
                )
                return CreditEntry(
                    **base,
                    applicant_id=state.applicant.id_number,
                    applicant_key=state.applicant_key,
                    kind=kind,
                    reason=event.reason,
                    at=event.at,
                )
            case Effect.NOTIFY_DEPARTMENT if isinstance(event, SignerRemoved):  # 减签: its department told
                added = next(a for a in state.added_signers if a.step == event.step)
                return DepartmentNotice(
                    **base,
                    departments=(added.department,),
                    step=event.step,
                    notice=event.kind,
                    text=event.reason,
                )
            case Effect.NOTIFY_DEPARTMENT if isinstance(event, StepAssigned | SignerAdded | StepUrged):
                assignees = tuple(a.id for a in event.assignees) if isinstance(event, StepAssigned) else ()
                return DepartmentNotice(
                    **base,
                    departments=(event.department,),
                    step=event.step,
                    notice=event.kind,
                    text=event.reason,
                    assignees=assignees,
                )
            case Effect.NOTIFY_DEPARTMENT if isinstance(event, WarningRaised):  # an internal target's
                return DepartmentNotice(
                    **base,
                    departments=state.reviewing_departments or state.departments,
                    notice=f"{event.subject.value}_{event.level.value}",
                    text=event.reason,
                )
            case Effect.SET_CASE_PRIORITY if isinstance(event, GreenChannelChanged):
                return PriorityChange(**base, green_channel=event.green_channel)
            case Effect.ESCALATE if isinstance(event, WarningRaised):
                return Escalation(
                    **base,
                    matter_code=state.matter.code,
                    departments=state.departments,
                    subject=event.subject,
                    deadline_at=event.deadline_at,
                )
        raise ValueError(f"{event.kind} has no {effect.value} message")  # effects_of never asks for one

    # --- messages -----------------------------------------------------------------------------------------

    @workflow.update
    async def act(self, payload: CommandPayload) -> ApplicationView:
        """Apply a person's command (an ``ApplicationCommand`` as JSON).

        The validator has already refused anything invalid, and anything sent before the case was
        registered. 容缺 first runs the credit check, and a new steward's slot is held first (a steward at
        capacity is refused ``StewardAtCapacity``); an ineligible applicant or a full steward is refused
        here, still as a typed error, but such a refusal is an update that failed and so stays in the
        history.
        """
        self._idempotency_keys.remember()
        command, trusted = await self._read_trust_store(_command(payload))
        if isinstance(command, AcceptWithDeficiencies):
            state = self._current
            standing = await self._credit_standing(
                state.applicant.id_number, state.applicant_key, self._now()
            )
            if not standing.eligible:
                self._credit_refused = standing.detail
            command = command.model_copy(update={"credit": standing})
        if isinstance(command, ChangeGreenChannel):
            await self._change_green_channel(command)
        else:
            self._apply(command, signed_by=key_id_of(command.assertion))
        self._trusted = trusted or self._trusted
        return self._view()

    @act.validator
    def _refuse_invalid(self, payload: CommandPayload) -> None:
        """Refuse before anything enters history, with the domain error's type."""
        command = _command(payload)
        self._refuse_unadmitted(command, admit, rotation=isinstance(command, ReviseTrustedKeys))
        if isinstance(command, AcceptWithDeficiencies):
            if self._credit_refused is not None:  # the check already said no on this case
                raise refusal(
                    DeficiencyNotTolerable(f"applicant not eligible for 容缺: {self._credit_refused}")
                )
            # The credit check runs in the handler (it is I/O); every other rule is checked now.
            command = command.model_copy(update={"credit": CreditStanding(eligible=True)})
        self._decide_as_the_handler_will(command)

    @workflow.signal
    def calendar_revised(self, *_ignored: object) -> None:
        """R-CAL-4: a new calendar version is loaded; recompute the deadlines with it.

        The signal carries nothing; whatever a sender adds is ignored rather than failing the case.
        """
        self._calendar_revision_requested = True

    @workflow.signal
    def project_changed(self, *_ignored: object) -> None:
        """The project this case is a matter of changed: the case reads the project's outcome itself.

        The signal carries nothing; anyone may send it, and it only makes the case look.
        """
        self._project_check_requested = self._part_of is not None

    @workflow.signal
    def complaint_filed(self, complaint_id: object = None, *_ignored: object) -> None:
        """A complaint says it concerns this case: the case reads the complaint itself before linking it.

        Anyone may send it; only a complaint that names this case is linked, and a few are read at once.
        """
        pending = self._complaints_to_read
        fits = isinstance(complaint_id, str) and len(complaint_id) <= MAX_NAME  # an application number's
        if fits and complaint_id not in pending and len(pending) < _COMPLAINTS_READ_AT_ONCE:
            pending.append(str(complaint_id))

    @workflow.query
    def state(self, at: datetime | None = None) -> ApplicationView:
        """The case as supervisors and portals see it at ``at`` (callers pass their current time).

        Without ``at`` the view is as of the case's last activity: a query cannot read a clock of its own.
        """
        return self._view(at)

    @workflow.query
    def events(self) -> list[ApplicationEvent]:
        """The whole domain log: kind, instant, actor and reason of every action."""
        return list(self._events)

    @workflow.query
    def state_for(self, read: ReadRequest) -> ApplicationView | None:
        """``state`` as ``read.reader`` may see it: nothing (``null``) if their role does not cover the case.

        The client, the CLI and the gateway read through this and ``events_for``, on behalf of the person
        asking; ``state`` and ``events`` serve operators with direct access to Temporal.
        """
        return self._view(read.at) if self._may_read(read) else None

    @workflow.query
    def events_for(self, read: ReadRequest) -> EventsPage[ApplicationEvent] | None:
        """A page of ``events`` as ``read.reader`` may see them, from ``read.first`` (``null`` as for
        ``state_for``): a long case's log is read in pages, each within Temporal's payload limit."""
        if self._state is None:  # a case not (yet) registered has no log to page: say so
            raise still_registering()
        return EventsPage.of(self._events, read.first) if self._may_read(read) else None

    # --- helpers ------------------------------------------------------------------------------------------

    def _may_read(self, read: ReadRequest) -> bool:
        return read.reader is None or may_read(self._current, read.reader)

    def _view(self, at: datetime | None = None) -> ApplicationView:
        return ApplicationView.of(self._current, at or self._now())

    def _priority(self) -> Priority:
        # Before registration the start's own priority is inherited; after, the case's current one.
        return priority_of(self._state.green_channel) if self._state else Priority.default

    def _fold(self, state: ApplicationState | None, event: ApplicationEvent) -> ApplicationState:
        if isinstance(event, ApplicationSubmitted):
            return start(event)
        if state is None:
            raise ValueError("an application's log starts with ApplicationSubmitted")
        return evolve(state, event)

    def _decide_at(
        self, state: ApplicationState | None, command: ApplicationCommand, now: datetime
    ) -> tuple[ApplicationEvent, ...]:
        return decide(state, command, now)

    def _wanted_search_attributes(self, state: ApplicationState) -> Mapping[SearchAttributeKey[Any], object]:
        plan = state.plan
        due_at = plan.decision_due_at if plan and state.deciding else None  # a closed case keeps no plan
        return {
            search_attributes.STATUS: state.status.value,
            search_attributes.MATTER: state.matter.code,
            search_attributes.DEPARTMENTS: list(state.departments),
            search_attributes.GREEN_CHANNEL: state.green_channel,
            search_attributes.APPLICANT_HASH: state.applicant_key,
            search_attributes.WARNING_LEVEL: state.warning_raised().value,
            search_attributes.DUE_AT: due_at,
            search_attributes.READERS: list(case_readers(state)),
            search_attributes.CALENDAR: state.rules.calendar.version,
            **(search_attributes.reported(report_facts(state)) if self._reported else {}),
        }
