"""The matter catalogue: the shipped data, variant resolution, and the messages of a malformed entry."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.builders import shipped_catalogue
from workflows.domain.catalogue import (
    STATUTORY_PAUSES,
    AcceptanceMode,
    ApprovalMode,
    DeficiencyMode,
    Matter,
    parse_catalogue,
)
from workflows.domain.errors import CatalogueInvalid, UnknownMatter
from workflows.reference_data import load_catalogue

Raw = dict[str, Any]


def _valid_entry(code: str = "TEST-MATTER") -> Raw:
    """A minimal entry the catalogue accepts, for the malformed cases to break one field at a time."""
    return {
        "code": code,
        "name": "测试事项",
        "legal_basis": "行政许可法 第42条",
        "departments": ["health"],
        "materials": [
            {"code": "application_form", "name": "申请表", "importance": "core"},
            {"code": "agent_authorisation", "name": "授权委托书", "importance": "secondary"},
        ],
    }


def _catalogue_with(entry: Raw) -> Raw:
    """Raw catalogue data: one valid entry first, then ``entry``, so positions are exercised too."""
    return {"version": "test-1", "matters": [_valid_entry("FIRST-MATTER"), entry]}


def _staged(entry: Raw, days: tuple[int, ...]) -> Raw:
    entry |= {"approval": "staged", "promised_limit": 20}
    entry["stages"] = [
        {
            "code": f"stage_{i}",
            "name": f"第{i}阶段",
            "lead_department": "health",
            "working_days": d,
            "matters": [{"code": f"step_{i}", "name": "审批", "department": "health"}],
        }
        for i, d in enumerate(days, start=1)
    ]
    return entry


def _without(field: str) -> Callable[[Raw], Raw]:
    def drop(entry: Raw) -> Raw:
        del entry[field]
        return entry

    return drop


def _with(**fields: Any) -> Callable[[Raw], Raw]:
    def update(entry: Raw) -> Raw:
        return entry | fields

    return update


_CORE_ONLY = [{"code": "application_form", "name": "申请表", "importance": "core"}]
_FORM_TWICE = [
    {"code": "application_form", "name": "申请表", "importance": "core"},
    {"code": "application_form", "name": "申请表（副本）", "importance": "secondary"},
]


def test_the_shipped_catalogue_loads_with_a_version_and_every_reference_process() -> None:
    """The file shipped with the engine validates, and names the three reference processes of section 7."""
    catalogue = load_catalogue()
    codes = {m.code for m in catalogue.matters}
    assert catalogue.version
    assert {"ENTERPRISE-ESTABLISH", "REAL-ESTATE", "CONSTRUCTION-PROJECT"} <= codes


def test_enterprise_establishment_is_staged_and_promised_in_one_working_day() -> None:
    """企业开办: one clock of 1 working day over staged approvals, business registration first."""
    matter = shipped_catalogue().matter("ENTERPRISE-ESTABLISH")
    assert matter.limit == 1
    assert matter.approval is ApprovalMode.STAGED
    assert matter.stages[0].matters[0].department == "market_regulation"
    assert all(stage.working_days is None for stage in matter.stages)


@pytest.mark.parametrize(
    ("code", "limit"),
    [
        ("REAL-ESTATE.mortgage", 5),
        ("REAL-ESTATE.transfer", 5),
        ("REAL-ESTATE.mortgage_cancellation", 1),
        ("REAL-ESTATE.seizure", 0),
        ("REAL-ESTATE.objection", 0),
        ("REAL-ESTATE.complex", 30),
    ],
)
def test_real_estate_registration_types_carry_their_own_limits(code: str, limit: int) -> None:
    """不动产登记 is resolved per type: mortgage 5, seizure 0 (on the spot), all within the statutory 30."""
    matter = shipped_catalogue().matter(code)
    assert matter.limit == limit
    assert matter.statutory_limit == 30
    assert matter.acceptance is AcceptanceMode.ON_THE_SPOT


def test_a_variant_resolves_to_a_concrete_entry_named_by_both_codes() -> None:
    """'REAL-ESTATE.mortgage' is the real-estate entry with the mortgage type's limits and no types left."""
    matter = shipped_catalogue().matter("REAL-ESTATE.mortgage")
    assert matter.code == "REAL-ESTATE.mortgage"
    assert "抵押登记" in matter.name
    assert matter.variants == ()
    assert matter.promised_limit == 5


def test_the_construction_project_runs_four_stages_of_30_25_20_15_within_90_days() -> None:
    """工程建设项目审批: 90 working days split over four stages in order (section 7, configurable split)."""
    matter = shipped_catalogue().matter("CONSTRUCTION-PROJECT")
    assert matter.limit == 90
    assert matter.approval is ApprovalMode.STAGED
    assert [s.working_days for s in matter.stages] == [30, 25, 20, 15]


def test_at_least_three_matters_take_the_twenty_day_statutory_default() -> None:
    """R-XK-42a: matters whose law sets no period get 20 working days, and the catalogue has several."""
    defaults = [m.code for m in shipped_catalogue().matters if m.statutory_limit == 20]
    assert len(defaults) >= 3, defaults


def test_every_shipped_entry_and_type_survives_a_serialisation_round_trip() -> None:
    """A case keeps a copy of its entry through Temporal's JSON, so every resolved entry must revalidate."""
    catalogue = shipped_catalogue()
    resolved = [
        catalogue.matter(f"{m.code}.{v.code}" if v else m.code)
        for m in catalogue.matters
        for v in (m.variants or (None,))
    ]
    for matter in resolved:
        assert Matter.model_validate_json(matter.model_dump_json()) == matter


def test_no_shipped_entry_repeats_a_statutory_pause() -> None:
    """R-XK-45 pauses are built in, so no entry lists them again under its own pauses."""
    for matter in shipped_catalogue().matters:
        assert not {p.code for p in matter.clock_pauses} & STATUTORY_PAUSES.keys()
        assert STATUTORY_PAUSES.keys() <= matter.pause_reasons.keys()


@pytest.mark.parametrize(
    "code",
    ["NO-SUCH-MATTER", "NO-SUCH-MATTER.mortgage", "REAL-ESTATE.no_such_type", "FOOD-BUSINESS.no_such_type"],
)
def test_an_unknown_code_or_type_is_an_unknown_matter(code: str) -> None:
    """A code (or type) the catalogue does not hold is refused with UnknownMatter naming it."""
    with pytest.raises(UnknownMatter) as refused:
        shipped_catalogue().matter(code)
    assert code in str(refused.value)


@pytest.mark.parametrize("code", ["REAL-ESTATE", "EIA-APPROVAL"])
def test_a_matter_with_types_cannot_be_used_without_choosing_one(code: str) -> None:
    """A matter with types has no limit of its own: the caller must name the type, and is offered them."""
    with pytest.raises(UnknownMatter, match="choose a type") as refused:
        shipped_catalogue().matter(code)
    assert refused.value.suggestions
    assert all(suggestion.startswith(f"{code}.") for suggestion in refused.value.suggestions)


@pytest.mark.parametrize(
    ("mistyped", "meant"),
    [
        ("FOOD-BUSNESS", "FOOD-BUSINESS"),
        ("food-business", "FOOD-BUSINESS"),
        ("REAL-ESTATE.mortgag", "REAL-ESTATE.mortgage"),
        ("PUBLIC-PLACE-HYGEINE", "PUBLIC-PLACE-HYGIENE"),
    ],
)
def test_a_mistyped_matter_code_is_refused_with_the_nearest_codes_suggested(
    mistyped: str, meant: str
) -> None:
    """A typo is not a silent miss: the refusal names the catalogue codes closest to what was typed."""
    with pytest.raises(UnknownMatter) as refused:
        shipped_catalogue().matter(mistyped)
    assert refused.value.suggestions[0] == meant
    assert f"did you mean {meant}" in str(refused.value)


def test_a_mistyped_material_code_gets_the_nearest_material_codes() -> None:
    """The same help for materials: a near miss of a material code suggests the real one."""
    matter = shipped_catalogue().matter("FOOD-BUSINESS")
    assert matter.suggest_materials("aplication_form") == ("application_form",)
    assert matter.suggest_materials("zzz") == ()


@pytest.mark.parametrize(
    ("break_entry", "field"),
    [
        pytest.param(_with(promised_limit=30), "promised_limit", id="promised-over-statutory"),
        pytest.param(_with(statutory_limit=-1), "statutory_limit", id="negative-statutory-limit"),
        pytest.param(_with(promised_limit=-1), "promised_limit", id="negative-promised-limit"),
        pytest.param(_without("legal_basis"), "legal_basis", id="missing-field"),
        pytest.param(_with(colour="红"), "colour", id="unknown-field"),
        pytest.param(_with(materials=_FORM_TWICE), "materials", id="duplicated-material-codes"),
        pytest.param(
            _with(materials=_CORE_ONLY, deficiency_mode="defer_issuance"),
            "deficiency_mode",
            id="deficiency-without-secondary-material",
        ),
        pytest.param(lambda entry: _staged(entry, (10, 5, 4)), "working_days", id="stage-days-not-the-limit"),
        pytest.param(
            _with(approval="countersign", departments=["health"]), "approval", id="countersign-one-department"
        ),
        pytest.param(
            _with(departments=["health", "water"]), "approval single", id="single-with-two-departments"
        ),
        pytest.param(
            _with(clock_pauses=[{"code": "hearing", "name": "听证", "legal_basis": "行政许可法 第47条"}]),
            "clock_pauses",
            id="pause-repeats-a-statutory-reason",
        ),
        pytest.param(
            _with(variants=[{"code": "quick", "name": "快办", "promised_limit": 21}]),
            "variants",
            id="variant-promised-over-statutory",
        ),
    ],
)
def test_a_malformed_entry_is_refused_naming_the_entry_and_the_field(
    break_entry: Callable[[Raw], Raw], field: str
) -> None:
    """Start-up stops with CatalogueInvalid whose message names the entry's code, position and field."""
    data = _catalogue_with(break_entry(copy.deepcopy(_valid_entry("BROKEN-MATTER"))))
    with pytest.raises(CatalogueInvalid) as refused:
        parse_catalogue(data)
    message = str(refused.value)
    assert "'BROKEN-MATTER' (matters[1])" in message
    assert field in message


def test_stage_days_that_add_up_to_the_limit_are_accepted() -> None:
    """The staged counterpart of the malformed case: budgets adding up to the limit validate."""
    data = _catalogue_with(_staged(_valid_entry("STAGED-MATTER"), (10, 6, 4)))
    assert parse_catalogue(data).matter("STAGED-MATTER").limit == 20


def test_two_entries_with_one_code_are_refused_naming_the_code() -> None:
    """Matter codes are unique across the catalogue; the duplicate is named."""
    data = {"version": "test-1", "matters": [_valid_entry("TWIN-MATTER"), _valid_entry("TWIN-MATTER")]}
    with pytest.raises(CatalogueInvalid) as refused:
        parse_catalogue(data)
    assert "matters" in str(refused.value)
    assert "TWIN-MATTER" in str(refused.value)


@pytest.mark.parametrize(
    "content",
    [
        pytest.param('version = "x"\n[[matters]\ncode = "A"\n', id="bad-toml"),
        pytest.param('version = "x"\n', id="no-matters"),
    ],
)
def test_a_catalogue_file_that_does_not_parse_is_refused(tmp_path: Path, content: str) -> None:
    """load_catalogue(path) turns a TOML syntax error or an empty catalogue into CatalogueInvalid."""
    path = tmp_path / "catalogue.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogueInvalid):
        load_catalogue(path)


def test_a_missing_catalogue_file_is_refused_naming_the_path(tmp_path: Path) -> None:
    """An unreadable file stops start-up with CatalogueInvalid rather than an OSError."""
    path = tmp_path / "absent.toml"
    with pytest.raises(CatalogueInvalid, match=r"absent\.toml"):
        load_catalogue(path)


def test_the_catalogue_file_named_by_the_environment_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """$ONEWINDOW_CATALOGUE replaces the shipped file when no path is given."""
    path = tmp_path / "catalogue.toml"
    path.write_text(
        'version = "env-1"\n[[matters]]\ncode = "ENV-MATTER"\nname = "n"\nlegal_basis = "b"\n'
        'departments = ["health"]\n[[matters.materials]]\ncode = "f"\nname = "表"\nimportance = "core"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("ONEWINDOW_CATALOGUE", str(path))
    catalogue = load_catalogue()
    assert catalogue.version == "env-1"
    assert catalogue.matter("ENV-MATTER").deficiency_mode is DeficiencyMode.NOT_ALLOWED


_COMMITTED_PROOF = [
    {"code": "application_form", "name": "申请表", "importance": "core"},
    {"code": "site_proof", "name": "场所证明", "importance": "core", "replaced_by_commitment": True},
]


@pytest.mark.parametrize(
    ("break_entry", "words"),
    [
        pytest.param(_with(commitment_allowed=True), "replaced_by_commitment", id="allowed-without-proofs"),
        pytest.param(_with(materials=_COMMITTED_PROOF), "replaced_by_commitment", id="proofs-not-allowed"),
        pytest.param(
            _with(materials=_COMMITTED_PROOF, commitment_allowed=True, commitment_excluded="health"),
            "excluded for health",
            id="allowed-yet-excluded",
        ),
    ],
)
def test_a_commitment_the_catalogue_cannot_offer_is_refused_naming_the_entry(
    break_entry: Callable[[Raw], Raw], words: str
) -> None:
    """告知承诺制: offered with the proofs it replaces, and never on a safety, health or ecology matter."""
    data = _catalogue_with(break_entry(copy.deepcopy(_valid_entry("BROKEN-MATTER"))))
    with pytest.raises(CatalogueInvalid, match=words) as refused:
        parse_catalogue(data)
    assert "BROKEN-MATTER" in str(refused.value)


def test_an_entry_copied_into_a_case_before_the_commitment_fields_still_reads_back() -> None:
    """A case registered on the earlier catalogue holds FOOD-BUSINESS allowing 告知承诺 with no proofs
    named: its recorded entry must still decode on replay (the check is the catalogue's, at load)."""
    recorded = shipped_catalogue().matter("FOOD-BUSINESS").model_dump(mode="json")
    for material in recorded["materials"]:
        del material["replaced_by_commitment"]
    matter = Matter.model_validate(recorded)
    assert matter.commitment_allowed
    assert matter.commitment_proofs == ()
