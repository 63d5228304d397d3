"""The matter catalogue (事项目录): what each administrative matter needs and how fast it must be decided.

The catalogue is data (``workflows/data/catalogue.toml``) validated here at load, so a policy officer can
change a limit or a material without touching code, and a malformed entry stops start-up with a message
naming the entry and the field. A running case keeps the copy of its entry taken at submission.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    model_validator,
)

from workflows.domain.credit_code import PREFIX_PATTERN
from workflows.domain.errors import CatalogueInvalid, OneWindowError, UnknownMatter
from workflows.domain.values import Code, MatterCode, Name, Text, repeated

# Departments deciding one matter: each is a reader of its cases (access.case_readers), and with the other
# readers they must fit one search-attribute value (Temporal: 2 KB).
MAX_DEPARTMENTS = 10

# R-XK-45: time for exactly these activities does not count towards the decision period.
STATUTORY_PAUSES: Mapping[str, str] = {
    "hearing": "听证",
    "tender": "招标",
    "auction": "拍卖",
    "inspection": "检验",
    "testing": "检测",
    "quarantine": "检疫",
    "appraisal": "鉴定",
    "expert_review": "专家评审",
}


class _Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Importance(StrEnum):
    """容缺 is possible only when every core material is present and only secondary ones are missing."""

    CORE = "core"
    SECONDARY = "secondary"


class ApprovalMode(StrEnum):
    """How the responsible departments decide (R-XK-42b: several departments means joint handling)."""

    SINGLE = "single"
    COUNTERSIGN = "countersign"  # all departments in parallel; one rejection rejects
    SEQUENTIAL = "sequential"  # departments one after another, in catalogue order
    OR_SIGN = "or_sign"  # 或签: any one of the departments decides for all
    STAGED = "staged"  # composite matter: stages in order, parallel approvals inside each


class AcceptanceMode(StrEnum):
    """How acceptance is decided at the window."""

    NOTICE_WITHIN_FIVE_DAYS = "notice_within_5_days"  # R-XK-32: silence for 5 working days = accepted
    ON_THE_SPOT = "on_the_spot"  # 不动产登记暂行条例 第17条: not refused in writing on the spot = accepted


class DeficiencyMode(StrEnum):
    """容缺受理: whether allowed and how issuance relates to the supplement (DESIGN.md section 3)."""

    NOT_ALLOWED = "not_allowed"
    DEFER_ISSUANCE = "defer_issuance"  # Liaoning default: review proceeds, the licence waits
    ISSUE_THEN_SUPPLEMENT = "issue_then_supplement"  # 证照分离 matters, 国发〔2021〕7号


class Material(_Entry):
    """One document the applicant provides."""

    code: Code
    name: Name
    importance: Importance
    replaced_by_commitment: bool = Field(
        default=False,
        description="告知承诺制: a proof the written commitment replaces (verified after approval).",
    )


class RiskArea(StrEnum):
    """国办发〔2020〕42号: matters touching these are excluded from 告知承诺制."""

    PUBLIC_SAFETY = "public_safety"
    HEALTH = "health"
    ECOLOGY = "ecology"


# 绿色通道: the internal target of a green-channel case, as a share of the promised limit (configurable
# per matter; default one half).
INTERNAL_TARGET_SHARE = (1, 2)
# 告知承诺制: the post-approval verification (Zhejiang: 60 working days) and the rectification a failed
# one allows; both configurable per matter.
VERIFICATION_DAYS = 60
RECTIFICATION_DAYS = 20


class ClockPause(_Entry):
    """A matter-specific period that does not count (beyond R-XK-45), with the law that says so."""

    code: Code
    name: Name
    legal_basis: Text = Field(min_length=1)


class StageMatter(_Entry):
    """One approval inside a stage of a composite matter."""

    code: Code
    name: Name
    department: Code
    administrative: bool = Field(
        default=True, description="False for services tracked but not decided by an organ (a bank account)."
    )
    joint_departments: tuple[Code, ...] = Field(
        default=(),
        description="联合审图 / 联合验收: the other departments whose opinions this one step collects, with"
        " one deadline (countersigned: R-XK-42b).",
    )

    @property
    def departments(self) -> tuple[str, ...]:
        """Every department deciding this step, its own first."""
        return (self.department, *self.joint_departments)


class Stage(_Entry):
    """A stage of a composite matter: one lead department, parallel approvals inside (一家牵头、并联审批)."""

    code: Code
    name: Name
    lead_department: Code
    working_days: PositiveInt | None = Field(
        default=None, description="This stage's share of the matter's limit; omitted when one clock runs."
    )
    matters: tuple[StageMatter, ...] = Field(min_length=1)
    materials: tuple[Code, ...] = Field(
        default=(), description="The materials this stage's intake asks for (section 9); empty: all of them."
    )
    precondition: Code | None = Field(
        default=None,
        description="模拟审批: the material whose absence a key project's stage may be reviewed without"
        " (usually the land rights); the opinions are simulated until it comes.",
    )


class Variant(_Entry):
    """A type of a matter with its own limit (e.g. the real-estate registration types)."""

    code: Code
    name: Name
    promised_limit: NonNegativeInt = Field(description="Working days; 0 means decided on the spot.")
    statutory_limit: PositiveInt | None = None


class ProjectType(_Entry):
    """A type of project of a composite matter, and how its stages run (section 7)."""

    code: Code
    name: Name
    merge_stages: tuple[Code, ...] = Field(
        default=(), description="Consecutive stages this type runs as one (small social investment: 2+3)."
    )
    commitment_skips: tuple[Code, ...] = Field(
        default=(),
        description="投资承诺制: the pre-approvals a project on a published commitment skips (it builds"
        " first, and completion acceptance checks the commitment).",
    )


class Matter(_Entry):
    """One catalogue entry. Limits are in working days (R-XK-82)."""

    code: MatterCode
    name: Name
    legal_basis: Text = Field(min_length=1)
    departments: tuple[Code, ...] = Field(min_length=1, max_length=MAX_DEPARTMENTS)
    approval: ApprovalMode = ApprovalMode.SINGLE
    statutory_limit: PositiveInt = Field(default=20, description="R-XK-42a: 20 unless the matter's law says.")
    promised_limit: NonNegativeInt | None = Field(
        default=None, description="The reform's promise, what the engine enforces; defaults to statutory."
    )
    extension_limit: PositiveInt | None = Field(
        default=None,
        description="The one extension's cap where the matter's own law sets one; else R-XK-42's +10 / +15.",
    )
    acceptance: AcceptanceMode = AcceptanceMode.NOTICE_WITHIN_FIVE_DAYS
    materials: tuple[Material, ...] = Field(min_length=1)
    deficiency_mode: DeficiencyMode = DeficiencyMode.NOT_ALLOWED
    commitment_allowed: bool = Field(default=False, description="告知承诺制 allowed (国办发〔2020〕42号).")
    commitment_excluded: RiskArea | None = Field(
        default=None, description="Why 告知承诺制 is excluded: the matter touches safety, health or ecology."
    )
    verification_within: PositiveInt = Field(
        default=VERIFICATION_DAYS,
        description="告知承诺制: working days after issuance within which the department verifies.",
    )
    rectification_within: PositiveInt = Field(
        default=RECTIFICATION_DAYS,
        description="告知承诺制: the most working days a failed verification gives to rectify.",
    )
    internal_target_share: tuple[PositiveInt, PositiveInt] = Field(
        default=INTERNAL_TARGET_SHARE,
        description="绿色通道: the internal target, as (numerator, denominator) of the limit; at most 1.",
    )
    online: bool = Field(
        default=False,
        description="全程网办: the applicant can do it wholly online, never coming to a window (网上可办率).",
    )
    clock_pauses: tuple[ClockPause, ...] = ()
    stages: tuple[Stage, ...] = ()
    variants: tuple[Variant, ...] = ()
    project_types: tuple[ProjectType, ...] = ()
    credit_code_prefix: str | None = Field(
        default=None,
        pattern=PREFIX_PATTERN,
        description="统一社会信用代码 this matter yields: registration authority, category, division.",
    )

    @property
    def limit(self) -> int:
        """The working days the engine enforces: the promised limit, else the statutory one."""
        return self.statutory_limit if self.promised_limit is None else self.promised_limit

    @property
    def joint_handling(self) -> bool:
        """R-XK-42b: several departments deciding together (extension by a government leader); under
        或签 one department decides alone."""
        alone = (ApprovalMode.SINGLE, ApprovalMode.OR_SIGN)
        return self.approval not in alone and len(self.departments) > 1

    @property
    def pause_reasons(self) -> Mapping[str, str]:
        """Every reason the clock may stop for on this matter: R-XK-45 plus the entry's own pauses."""
        return {**STATUTORY_PAUSES, **{p.code: p.name for p in self.clock_pauses}}

    def suggest_materials(self, code: str) -> tuple[str, ...]:
        """The material codes closest to a mistyped ``code``."""
        return nearest(code, (m.code for m in self.materials))

    def unknown_materials(self, codes: Iterable[str]) -> str | None:
        """What is wrong with ``codes`` the matter does not ask for, the nearest ones suggested; else None."""
        unknown = sorted(set(codes) - {m.code for m in self.materials})
        if not unknown:
            return None
        hints = [
            f"{code} (did you mean {', '.join(near)}?)" if (near := self.suggest_materials(code)) else code
            for code in unknown
        ]
        return f"matter {self.code} asks for no material {'; '.join(hints)}"

    def material(self, code: str) -> Material | None:
        """The material with this code, if the matter asks for it."""
        return next((m for m in self.materials if m.code == code), None)

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if self.promised_limit is not None and self.promised_limit > self.statutory_limit:
            raise ValueError(
                f"promised_limit {self.promised_limit} exceeds statutory_limit {self.statutory_limit}"
            )
        _require_unique("materials", [m.code for m in self.materials])
        _require_unique("departments", list(self.departments))
        _require_unique("clock_pauses", [p.code for p in self.clock_pauses])
        _require_unique("variants", [v.code for v in self.variants])
        _require_unique("stages", [s.code for s in self.stages])
        shadowed = sorted({p.code for p in self.clock_pauses} & STATUTORY_PAUSES.keys())
        if shadowed:
            raise ValueError(f"clock_pauses repeat R-XK-45 reasons already built in: {', '.join(shadowed)}")
        if self.deficiency_mode is not DeficiencyMode.NOT_ALLOWED and not any(
            m.importance is Importance.SECONDARY for m in self.materials
        ):
            raise ValueError(f"deficiency_mode {self.deficiency_mode.value} needs a secondary material")
        numerator, denominator = self.internal_target_share
        if numerator > denominator:
            raise ValueError("internal_target_share: an internal target is at most the limit itself")
        several = (ApprovalMode.COUNTERSIGN, ApprovalMode.SEQUENTIAL, ApprovalMode.OR_SIGN)
        if self.approval in several and len(self.departments) < 2:
            raise ValueError(f"approval {self.approval.value} needs at least two departments")
        if self.approval is ApprovalMode.SINGLE and len(self.departments) != 1:
            raise ValueError("approval single names exactly one department (several decide by countersign)")
        if (self.approval is ApprovalMode.STAGED) != bool(self.stages):
            raise ValueError("stages are given exactly when approval is 'staged'")
        self._check_stages()
        _require_unique("stage matters", [m.code for stage in self.stages for m in stage.matters])
        _require_unique("project_types", [t.code for t in self.project_types])
        if self.project_types and not self.stages:
            raise ValueError("project_types are given only for a matter with stages")
        for project_type in self.project_types:
            _check_merge(self.stages, project_type)
            _check_skips(self.stages, project_type)
        for variant in self.variants:
            statutory = variant.statutory_limit or self.statutory_limit
            if variant.promised_limit > statutory:
                raise ValueError(
                    f"variants: {variant.code} promised_limit {variant.promised_limit} exceeds {statutory}"
                )
        return self

    @property
    def internal_target(self) -> int:
        """绿色通道: the internal target in working days, the limit's share rounded up (0 stays 0)."""
        numerator, denominator = self.internal_target_share
        return -(-self.limit * numerator // denominator)

    @property
    def commitment_proofs(self) -> tuple[str, ...]:
        """告知承诺制: the materials the applicant's written commitment replaces."""
        return tuple(m.code for m in self.materials if m.replaced_by_commitment)

    def _check_stages(self) -> None:
        for stage in self.stages:
            if not any(m.administrative for m in stage.matters):
                raise ValueError(f"stages: {stage.code} has no administrative matter to approve")
            named = {stage.lead_department, *(d for m in stage.matters for d in m.departments)}
            for item in stage.matters:
                _require_unique(f"stages: {stage.code}.{item.code} departments", list(item.departments))
            asked = sorted(set(stage.materials) - {m.code for m in self.materials})
            if asked:
                raise ValueError(f"stages: {stage.code} asks for materials not in materials: {asked}")
            precondition = self.material(stage.precondition) if stage.precondition else None
            if stage.precondition and (
                precondition is None or precondition.importance is not Importance.CORE
            ):
                raise ValueError(
                    f"stages: {stage.code} precondition {stage.precondition} is no core material"
                )
            unknown = sorted(named - set(self.departments))
            if unknown:
                raise ValueError(f"stages: {stage.code} names departments not in departments: {unknown}")
        budgets = [s.working_days for s in self.stages]
        if any(b is not None for b in budgets):
            if None in budgets:
                raise ValueError("stages: give working_days for every stage or for none")
            total = sum(b for b in budgets if b is not None)
            if total != self.limit:
                raise ValueError(
                    f"stages: working_days add up to {total}, not the matter's limit {self.limit}"
                )

    def variant(self, code: str) -> Matter:
        """The concrete matter for one of its variants, with the variant's limits."""
        chosen = next((v for v in self.variants if v.code == code), None)
        if chosen is None:
            raise UnknownMatter(
                f"{self.code}.{code}", nearest(code, (v.code for v in self.variants), prefix=f"{self.code}.")
            )
        return self.model_copy(
            update={
                "code": f"{self.code}.{chosen.code}",
                "name": f"{self.name}（{chosen.name}）",
                "statutory_limit": chosen.statutory_limit or self.statutory_limit,
                "promised_limit": chosen.promised_limit,
                "variants": (),
            }
        )

    def of_type(self, code: str | None) -> Matter:
        """The matter as a project of type ``code`` runs it (its stages merged as the type says)."""
        if code is None:
            return self
        chosen = next((t for t in self.project_types if t.code == code), None)
        if chosen is None:
            raise UnknownMatter(
                f"{self.code} type {code}", nearest(code, (t.code for t in self.project_types))
            )
        stages = _skipped(_merged(self.stages, chosen.merge_stages), chosen.commitment_skips)
        return self.model_copy(update={"stages": stages, "project_types": ()})

    def commitment_skips(self, code: str | None) -> tuple[str, ...]:
        """投资承诺制: the matters a project of type ``code`` skips on its commitment."""
        chosen = next((t for t in self.project_types if t.code == code), None)
        return chosen.commitment_skips if chosen else ()

    def stage_of(self, item: str) -> Stage:
        """The stage one of whose matters is ``item``."""
        found = next((stage for stage in self.stages if any(m.code == item for m in stage.matters)), None)
        if found is None:
            raise UnknownMatter(
                f"{self.code}/{item}", nearest(item, self.stage_matter_codes, prefix=f"{self.code}/")
            )
        return found

    @property
    def stage_matter_codes(self) -> tuple[str, ...]:
        """Every matter of every stage, in order."""
        return tuple(m.code for stage in self.stages for m in stage.matters)

    def stage_materials(self, stage: Stage) -> tuple[Material, ...]:
        """What ``stage``'s intake asks for (section 9: each stage with its own materials only)."""
        return tuple(m for m in self.materials if not stage.materials or m.code in stage.materials)

    def part(self, item: str) -> Matter:
        """The single application one matter of a stage is (一家牵头、并联审批): its own department(s), the
        stage's materials, the stage's budget as its promised limit, the project's pauses and 容缺 rules.
        A joint step (联合审图 / 联合验收) is one application its departments countersign."""
        stage = self.stage_of(item)
        step = next(m for m in stage.matters if m.code == item)
        return self.model_copy(
            update={
                "code": f"{self.code.partition('.')[0]}.{step.code}",
                "name": step.name,
                "departments": step.departments,
                "approval": ApprovalMode.COUNTERSIGN if step.joint_departments else ApprovalMode.SINGLE,
                "promised_limit": stage.working_days or self.limit,
                "materials": self.stage_materials(stage),
                "stages": (),
                "variants": (),
                "project_types": (),
                "credit_code_prefix": None,
            }
        )


def _check_merge(stages: tuple[Stage, ...], project_type: ProjectType) -> None:
    merged = project_type.merge_stages
    if not merged:
        return
    codes = [stage.code for stage in stages]
    if len(merged) < 2 or not set(merged) <= set(codes):
        raise ValueError(
            f"project_types: {project_type.code} merge_stages names two or more of the stages {codes}"
        )
    first = codes.index(merged[0])
    if tuple(codes[first : first + len(merged)]) != merged:
        raise ValueError(
            f"project_types: {project_type.code} merge_stages must be consecutive stages, in order"
        )


def _check_skips(stages: tuple[Stage, ...], project_type: ProjectType) -> None:
    known = {m.code for stage in stages for m in stage.matters}
    unknown = sorted(set(project_type.commitment_skips) - known)
    if unknown:
        raise ValueError(f"project_types: {project_type.code} skips no such matter: {unknown}")
    for stage in _skipped(stages, project_type.commitment_skips):
        if not any(m.administrative for m in stage.matters):
            raise ValueError(
                f"project_types: {project_type.code} leaves stage {stage.code} nothing to approve"
            )


def _skipped(stages: tuple[Stage, ...], skips: tuple[str, ...]) -> tuple[Stage, ...]:
    """The stages without the matters a commitment replaces."""
    if not skips:
        return stages
    return tuple(
        stage.model_copy(update={"matters": tuple(m for m in stage.matters if m.code not in skips)})
        for stage in stages
    )


def _merged(stages: tuple[Stage, ...], merge: tuple[str, ...]) -> tuple[Stage, ...]:
    """The stages in ``merge`` run as one: the first's lead, their budgets, matters and materials."""
    if not merge:
        return stages
    parts = [stage for stage in stages if stage.code in merge]
    budgets = [stage.working_days for stage in parts]
    one = Stage(
        code="-".join(merge),
        name="、".join(stage.name for stage in parts) + "（合并办理）",
        lead_department=parts[0].lead_department,
        working_days=None if None in budgets else sum(b for b in budgets if b is not None),
        matters=tuple(m for stage in parts for m in stage.matters),
        materials=()
        if any(not stage.materials for stage in parts)
        else tuple(dict.fromkeys(code for stage in parts for code in stage.materials)),
    )
    at = stages.index(parts[0])
    return (*stages[:at], one, *stages[at + len(parts) :])


def nearest(code: str, known: Iterable[str], prefix: str = "") -> tuple[str, ...]:
    """Up to three of ``known`` that look like a mistyped ``code`` (with ``prefix``), best first."""
    candidates = {candidate.casefold(): candidate for candidate in known}
    close = difflib.get_close_matches(code.casefold(), list(candidates), n=3, cutoff=0.6)
    return tuple(f"{prefix}{candidates[match]}" for match in close)


def _check_commitment(matter: Matter) -> None:
    """告知承诺制 as the catalogue offers it. Checked when a catalogue loads, not on every matter: an entry
    copied into a case before these fields existed must still read back."""
    where = f"matters: {matter.code}"
    if matter.commitment_allowed and matter.commitment_excluded is not None:
        raise ValueError(
            f"{where}: commitment_allowed, yet excluded for {matter.commitment_excluded.value} "
            "(国办发〔2020〕42号)"
        )
    if matter.commitment_allowed != bool(matter.commitment_proofs):
        raise ValueError(
            f"{where}: commitment_allowed needs a material replaced_by_commitment, and only it may name one"
        )
    if matter.commitment_allowed and matter.approval is ApprovalMode.STAGED:
        raise ValueError(f"{where}: 告知承诺制 is for a single approval (a staged matter has 投资承诺 types)")


def _require_unique(field_name: str, codes: list[str]) -> None:
    if twice := repeated(codes):
        raise ValueError(f"{field_name}: codes repeated: {', '.join(twice)}")


class UnknownComplaintCategory(OneWindowError):
    """The complaint category is not in the dispatch table in force; the nearest codes are suggested."""

    def __init__(self, code: str, suggestions: tuple[str, ...] = ()) -> None:
        hint = f"; did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown complaint category {code!r}{hint}")
        self.code = code
        self.suggestions = suggestions


class ComplaintCategory(_Entry):
    """One row of the 12345/8890 dispatch table (派单): where a complaint of this category goes and how
    long each step may take. Local choices (DESIGN.md section 9): configurable here, never in code."""

    code: Code
    name: Name
    department: Code = Field(description="The department a complaint of this category is dispatched to.")
    handling_days: PositiveInt = Field(default=5, description="Working days to handle, from the day after.")
    extension_days: PositiveInt = Field(default=5, description="One extension, with the head's approval.")
    misroute_hours: PositiveInt = Field(default=24, description="Hours after dispatch to return it (退单).")


class Catalogue(_Entry):
    """The catalogue in force; its version is copied into each case with the entry."""

    version: str = Field(min_length=1)
    matters: tuple[Matter, ...] = Field(min_length=1)
    complaint_categories: tuple[ComplaintCategory, ...] = ()
    departments: dict[Code, Name] = Field(
        default_factory=dict, description="Each department code's name as people read it (notices)."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        _require_unique("matters", [m.code for m in self.matters])
        _require_unique("complaint_categories", [c.code for c in self.complaint_categories])
        for matter in self.matters:
            _check_commitment(matter)
        return self

    def department_name(self, code: str) -> str:
        """The department's name, or its code where the catalogue names none."""
        return self.departments.get(code, code)

    def matter_name(self, code: str) -> str:
        """The matter's name (``CODE`` or ``CODE.VARIANT``), or the code of one no longer listed."""
        try:
            return self.matter(code).name
        except UnknownMatter:
            return code

    def category_name(self, code: str) -> str:
        """A complaint category's name, or the code of one no longer listed."""
        return next((c.name for c in self.complaint_categories if c.code == code), code)

    def matter(self, code: str) -> Matter:
        """The entry for ``CODE`` or, for a matter with types, ``CODE.VARIANT``."""
        base_code, _, variant = code.partition(".")
        entry = next((m for m in self.matters if m.code == base_code), None)
        if entry is None:
            raise UnknownMatter(code, nearest(base_code, (m.code for m in self.matters)))
        if entry.variants and not variant:
            raise UnknownMatter(
                code, tuple(f"{entry.code}.{v.code}" for v in entry.variants), "choose a type"
            )
        return entry.variant(variant) if variant else entry

    def complaint_category(self, code: str) -> ComplaintCategory:
        """The dispatch-table row of the complaint category ``code``."""
        found = next((c for c in self.complaint_categories if c.code == code), None)
        if found is None:
            raise UnknownComplaintCategory(code, nearest(code, (c.code for c in self.complaint_categories)))
        return found


def parse_catalogue(data: Mapping[str, Any]) -> Catalogue:
    """Validate raw catalogue data; errors name the entry (by code and position) and the field."""
    try:
        return Catalogue.model_validate(data)
    except ValidationError as error:
        problems = [_describe(data, e["loc"], e["msg"]) for e in error.errors()]
        raise CatalogueInvalid("matter catalogue is invalid:\n  " + "\n  ".join(problems)) from error


def _describe(data: Mapping[str, Any], loc: tuple[int | str, ...], message: str) -> str:
    if len(loc) >= 2 and loc[0] == "matters" and isinstance(loc[1], int):
        matters = data.get("matters") or []
        raw = matters[loc[1]] if loc[1] < len(matters) else {}
        code = raw.get("code", "?") if isinstance(raw, Mapping) else "?"
        field = ".".join(str(part) for part in loc[2:]) or "(entry)"
        return f"matter {code!r} (matters[{loc[1]}]) field {field}: {message}"
    return f"field {'.'.join(str(p) for p in loc) or '(root)'}: {message}"
