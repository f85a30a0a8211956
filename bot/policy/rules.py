"""The fund's rules: `rules/*.yml` (and the issue templates) loaded into typed, frozen structures.

Every problem in every file is collected and reported at once, each as `file: key: reason`;
unknown keys are errors (the schemas in `bot/config/schemas/rules/` say `additionalProperties: false`),
and the service refuses to start on any of them — a warning would let a typo change policy.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from bot.config.forms import FormTemplateError, load_template, parse_template
from bot.policy.form_body import parse_any
from bot.policy.form_template import FormTemplate
from bot.policy.parsed_form import ParsedForm
from bot.config.fund_yaml import FundYamlError, load_fund_yaml
from bot.policy.i18n import LANGUAGES, language_name, language_of

SCHEMA_DIR = Path(__file__).parent.parent / "config" / "schemas" / "rules"
RULE_FILES = ("stages", "eligibility", "reports", "funding", "fund")
OUTCOMES = ("funded", "declined", "withdrawn")
APPLICATION_TEMPLATE = "application.yml"
REPORT_TEMPLATE = "progress-report.yml"


def translations_of(template: str) -> tuple[str, ...]:
    """The file names of a form's translations, one per language: `application.zh.yml` …"""
    stem = template.removesuffix(".yml")
    return tuple(f"{stem}.{language}.yml" for language in LANGUAGES)


#: Every form file the bot reads: each form, then its translations (each one optional).
TEMPLATE_FILES = tuple(name for base in (APPLICATION_TEMPLATE, REPORT_TEMPLATE) for name in (base, *translations_of(base)))
# Form fields the bot gives meaning to (checked against the template, not listed a second time).
REQUIRED_APPLICATION_FIELDS = ("repository", "funding_amount")


class RulesError(Exception):
    """The rules are broken; `errors` holds every problem found, one line each."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class LabelSpec:
    name: str
    color: str
    description: str = ""


@dataclass(frozen=True)
class TeamRef:
    org: str
    slug: str

    def __str__(self) -> str:
        return f"{self.org}/{self.slug}"


@dataclass(frozen=True)
class ReviewerRules:
    users: frozenset[str]  # lower-cased logins
    teams: tuple[TeamRef, ...]
    author_associations: frozenset[str]


@dataclass(frozen=True)
class StageSpec:
    name: str
    label: LabelSpec
    next: tuple[str, ...]
    max_days: int | None
    min_scores: int
    community_vote: bool
    decides: bool
    reviewers: ReviewerRules | None  # None: the global reviewers
    assign_count: int = 0  # reviewers assigned by load on entering the stage (0: none)
    min_voters: int = 0  # community vote: people who must have voted before /advance
    min_approval: Decimal | None = None  # community vote: share of 👍 among 👍 + 👎 needed


@dataclass(frozen=True)
class OutcomeSpec:
    name: str
    label: LabelSpec
    close_issue: bool


@dataclass(frozen=True)
class Labels:
    application: LabelSpec
    report: LabelSpec
    eligible: LabelSpec
    ineligible: LabelSpec
    needs_info: LabelSpec
    report_due: LabelSpec
    report_overdue: LabelSpec
    bot: LabelSpec  # the issues the App keeps: the sweep log (bot.policy.sweeplog), the fund's state
    round: LabelSpec | None = None  # `{round}` in its name is a round's name; None: rounds are not labelled


@dataclass(frozen=True)
class StageRules:
    stages: tuple[StageSpec, ...]
    outcomes: Mapping[str, OutcomeSpec]
    auto_advance: bool
    reviewers: ReviewerRules
    criteria: tuple[str, ...]
    score_min: int
    score_max: int
    labels: Labels

    @property
    def first(self) -> StageSpec:
        return self.stages[0]

    def stage(self, name: str) -> StageSpec | None:
        return next((s for s in self.stages if s.name == name), None)

    def reviewers_for(self, stage: str | None) -> ReviewerRules:
        spec = self.stage(stage) if stage else None
        return spec.reviewers if spec and spec.reviewers else self.reviewers

    def all_labels(self) -> tuple[LabelSpec, ...]:
        """Every label the bot manages, in a stable order."""
        return tuple(spec for _, spec in self.keyed_labels())

    def keyed_labels(self) -> tuple[tuple[str, LabelSpec], ...]:
        """Every label the bot manages with its stable key — `stage:<stage>`, `outcome:<outcome>`,
        `label:<key under stages.labels>` — which stays the same when the rules rename the label, so
        `labels sync` finds it again on GitHub (by the key in its description) and renames it in place."""
        keyed = [(f"stage:{s.name}", s.label) for s in self.stages]
        keyed += [(f"outcome:{name}", o.label) for name, o in self.outcomes.items()]
        keyed += [(f"label:{f}", getattr(self.labels, f)) for f in Labels.__dataclass_fields__
                  if f != "round"]
        return tuple(keyed)

    def stage_by_label(self, label: str) -> StageSpec | None:
        return next((s for s in self.stages if s.label.name.lower() == label.lower()), None)


@dataclass(frozen=True)
class EligibilityRules:
    require_osi_approved: bool
    flag_declared_mismatch: bool
    window_days: int
    min_commits: int
    max_days_since_last_commit: int | None
    archived_fails: bool
    min_contributors: int
    goal_fields: tuple[str, ...]
    goal_min_words: int


@dataclass(frozen=True)
class ReportRules:
    cadence_days: int
    reminder_lead_days: int
    overdue_grace_days: int
    max_reports: int | None
    mention_reviewers: bool
    mention_assignees: bool
    mention_users: tuple[str, ...]
    min_words: int


@dataclass(frozen=True)
class RoundSpec:
    """A funding round: its pool, and (with `rounds:`) the days applications are taken."""

    name: str
    pool: Decimal | None
    opens: dt.date | None = None  # None: `round:` (one round, always open)
    closes: dt.date | None = None
    max_per_project: Decimal | None = None  # None: the fund's


@dataclass(frozen=True)
class FundingRules:
    currency: str
    max_per_project: Decimal
    rounds: tuple[RoundSpec, ...]  # `rounds:`, or the one `round:` (named "default" when unnamed)
    dated: bool = False  # `rounds:` with days: an application filed outside them waits
    tranches: tuple[Decimal, ...] = (Decimal(100),)  # per cent of a grant, released in order

    def round_on(self, day: dt.date) -> RoundSpec | None:
        """The round an application filed on `day` belongs to (None: outside every round)."""
        if not self.dated:
            return self.rounds[0]
        return next((r for r in self.rounds if r.opens and r.closes and r.opens <= day <= r.closes), None)

    def next_round(self, day: dt.date) -> RoundSpec | None:
        """The first round that opens after `day`."""
        later = [r for r in self.rounds if r.opens and r.opens > day]
        return min(later, key=lambda r: r.opens or day) if later else None

    def round_named(self, name: str) -> RoundSpec | None:
        return next((r for r in self.rounds if r.name == name), None)

    def cap(self, round_name: str) -> Decimal:
        spec = self.round_named(round_name)
        return spec.max_per_project if spec and spec.max_per_project is not None else self.max_per_project

    def pool(self, round_name: str) -> Decimal | None:
        spec = self.round_named(round_name)
        return spec.pool if spec else None

    @property
    def has_pool(self) -> bool:
        return any(r.pool is not None for r in self.rounds)


@dataclass(frozen=True)
class Rules:
    stages: StageRules
    eligibility: EligibilityRules
    reports: ReportRules
    funding: FundingRules
    # Each form in every language it is offered in: the fund's own (`application.yml`) first, then its
    # translations (`application.zh.yml` …), which have the same fields.
    application_forms: tuple[FormTemplate, ...]
    report_forms: tuple[FormTemplate, ...]
    language: str  # the fund's (`fund.language`): for an application whose form does not say, and the fund's texts
    # What they were built from, so that a fund's `.github/fund-bot.yml` can replace sections of them.
    documents: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)  # section -> file

    def round_label(self, round_name: str) -> LabelSpec | None:
        """The label of an application of `round_name` (None: the rules label no rounds)."""
        template = self.stages.labels.round
        if template is None or not self.funding.dated:
            return None
        return dataclasses.replace(template, name=template.name.replace("{round}", round_name)[:50])

    def keyed_labels(self) -> tuple[tuple[str, LabelSpec], ...]:
        """Every label the bot manages with its stable key (`StageRules.keyed_labels`) and, with dated
        rounds, one per round (`round:<name>`)."""
        rounds = tuple((f"round:{r.name}", label) for r in self.funding.rounds if (label := self.round_label(r.name)))
        return self.stages.keyed_labels() + rounds

    def all_labels(self) -> tuple[LabelSpec, ...]:
        return tuple(spec for _, spec in self.keyed_labels())

    def source_of(self, section: str) -> str:
        """Where `section` is set, as a public comment may name it: the fund's own file, or the server's
        rules (by their name in the project, never a path on the server)."""
        return FUND_FILE if self.origins.get(section) == FUND_FILE else f"rules/{section}.yml"

    @property
    def application_form(self) -> FormTemplate:
        return self.application_forms[0]

    @property
    def report_form(self) -> FormTemplate:
        return self.report_forms[0]

    def read_application(self, body: str | None) -> ParsedForm:
        """An issue body read as the application form, in whichever language its headings are."""
        return parse_any(self.application_forms, body)

    def read_report(self, body: str | None) -> ParsedForm:
        """An issue body read as the progress-report form, in whichever language its headings are."""
        return parse_any(self.report_forms, body)

    def language_of(self, form: ParsedForm) -> str:
        """An application's language: its form's `language` answer; without one, the language of the
        form it was filed with when that is a translation (`application.zh.yml`), else the fund's."""
        filed_in = form.template.language if form.template is not None else None
        return language_of(form.answers.get("language"), filed_in if filed_in in LANGUAGES else self.language)

    def application_form_in(self, language: str) -> FormTemplate:
        """The application form in `language` (its labels name the fields in that language's texts);
        the fund's own form when there is no translation into it."""
        return next((f for f in self.application_forms[1:] if f.language == language), self.application_form)


FUND_FILE = ".github/fund-bot.yml"
FUND_TEMPLATES = ".github/ISSUE_TEMPLATE"


def load_rules(rules_dir: Path, templates_dir: Path) -> Rules:
    """Load and validate every rules file and template; raise `RulesError` listing all problems."""
    errors: list[str] = []
    documents: dict[str, dict[str, Any]] = {}
    origins: dict[str, str] = {}
    for name in RULE_FILES:
        path = rules_dir / f"{name}.yml"
        origins[name] = str(path)
        document = _read_yaml(path, errors)
        if document is not None and _valid_section(name, document, str(path), "", errors):
            documents[name] = document
    forms: dict[str, FormTemplate] = {}
    for filename in TEMPLATE_FILES:
        path = templates_dir / filename
        if filename not in (APPLICATION_TEMPLATE, REPORT_TEMPLATE) and not path.exists():
            continue  # a translation is optional
        origins[filename] = str(path)
        try:
            forms[filename] = load_template(path)
        except FormTemplateError as err:
            errors.append(str(err))
    return _finish(documents, forms, origins, errors)


def fund_rules(server: Rules, fund_file: str | None, templates: Mapping[str, str | None]) -> Rules:
    """A fund's rules (SPEC §13): the sections its `.github/fund-bot.yml` holds replace the server's
    (same names, same schema), and its own issue forms (`templates`: file name -> text, None when the
    repository has none) replace the server's. Raise `RulesError` listing every problem, each as
    `file: key: reason`."""
    if fund_file is None and all(text is None for text in templates.values()):
        return server  # the server's rules, as they are
    errors: list[str] = []
    documents = dict(server.documents)
    origins = dict(server.origins)
    if fund_file is not None:
        try:
            fund = _dates_to_text(load_fund_yaml(fund_file))
        except FundYamlError as err:
            fund = None
            errors.append(f"{FUND_FILE}: {err}")
        if fund is None and not errors:
            fund = {}  # an empty file: the server's rules, as they are
        if fund is not None and not isinstance(fund, dict):
            errors.append(f"{FUND_FILE}: (top): must be a mapping of sections ({', '.join(RULE_FILES)})")
        elif isinstance(fund, dict):
            for key in sorted(set(fund) - set(RULE_FILES), key=str):
                errors.append(f"{FUND_FILE}: {key}: not a section of the rules (they are {', '.join(RULE_FILES)})")
            for name in RULE_FILES:
                if name in fund:
                    origins[name] = FUND_FILE
                    if isinstance(fund[name], dict) and _valid_section(name, fund[name], FUND_FILE, name, errors):
                        documents[name] = fund[name]
                    elif not isinstance(fund[name], dict):
                        errors.append(f"{FUND_FILE}: {name}: must be a mapping, as rules/{name}.yml is")
    forms = {f.path.name: f for f in server.application_forms + server.report_forms}
    for base in (APPLICATION_TEMPLATE, REPORT_TEMPLATE):
        if templates.get(base) is not None:  # the fund's own form: the server's translations of it do not fit it
            for name in translations_of(base):
                forms.pop(name, None)
        else:  # the server's form, with the server's translations
            templates = {name: text for name, text in templates.items() if name not in translations_of(base)}
    for filename, text in templates.items():
        if text is None:
            continue
        path = f"{FUND_TEMPLATES}/{filename}"
        origins[filename] = path
        try:
            forms[filename] = parse_template(Path(path), text)
        except FormTemplateError as err:
            errors.append(str(err))
    return _finish(documents, forms, origins, errors)


def _valid_section(name: str, document: Any, file: str, prefix: str, errors: list[str]) -> bool:
    schema = json.loads((SCHEMA_DIR / f"{name}.schema.json").read_text())
    problems = [f"{file}: {_join(prefix, _where(e))}: {e.message}" for e in _schema_errors(schema, document)]
    errors.extend(problems)
    return not problems


def _join(prefix: str, where: str) -> str:
    if not prefix:
        return where
    return prefix if where == "(top)" else f"{prefix}{'' if where.startswith('[') else '.'}{where}"


def _finish(documents: dict[str, dict[str, Any]], forms: dict[str, FormTemplate], origins: dict[str, str],
            errors: list[str]) -> Rules:
    rules = None
    if len(documents) == len(RULE_FILES) and {APPLICATION_TEMPLATE, REPORT_TEMPLATE} <= set(forms) and not errors:
        errors.extend(_cross_check(origins, documents, forms))
        if not errors:
            rules = _build(documents, forms, origins)
    if errors or rules is None:
        raise RulesError(errors)
    return rules


def _read_yaml(path: Path, errors: list[str]) -> dict[str, Any] | None:
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        errors.append(f"{path}: file is missing")
        return None
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else "syntax"
        errors.append(f"{path}: {where}: not valid YAML ({getattr(err, 'problem', err)})")
        return None
    if not isinstance(document, dict):
        errors.append(f"{path}: (top): must be a mapping of keys to values")
        return None
    return _dates_to_text(document)


def _dates_to_text(value: Any) -> Any:
    # YAML reads `2026-01-01` as a date; the schemas describe dates as ISO text.
    if isinstance(value, dict):
        return {k: _dates_to_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dates_to_text(v) for v in value]
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


def _schema_errors(schema: dict[str, Any], document: Any) -> Iterator[jsonschema.ValidationError]:
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    return iter(sorted(validator.iter_errors(document), key=lambda e: list(map(str, e.absolute_path))))


def _where(error: jsonschema.ValidationError) -> str:
    parts = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else ("." if parts else "") + str(part))
    return "".join(parts) or "(top)"


def _cross_check(origins: Mapping[str, str], docs: dict[str, dict[str, Any]], forms: dict[str, FormTemplate]
                 ) -> list[str]:
    """Checks a schema cannot express: references between keys and files."""
    errors: list[str] = []

    def at(section: str, key: str) -> str:  # `file: key` for a section, wherever it came from
        file = origins[section]
        return f"{file}: {section + '.' if file == FUND_FILE else ''}{key}"

    stage_docs = docs["stages"]["stages"]
    names = [s["name"] for s in stage_docs]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"{at('stages', 'stages')}: stage {name!r} is defined twice")
    for i, stage in enumerate(stage_docs):
        for target in stage.get("next", []):
            if target not in names:
                errors.append(f"{at('stages', f'stages[{i}].next')}: unknown stage {target!r}")
            elif target == stage["name"]:
                errors.append(f"{at('stages', f'stages[{i}].next')}: a stage cannot move to itself")
    if not any(s.get("decides") for s in stage_docs):
        errors.append(f"{at('stages', 'stages')}: no stage has `decides: true`, so nothing could be approved")

    all_labels = [s["label"]["name"] for s in stage_docs]
    all_labels += [o["label"]["name"] for o in docs["stages"]["outcomes"].values()]
    all_labels += [label["name"] for label in docs["stages"]["labels"].values()]
    lowered = [n.lower() for n in all_labels]
    for name in sorted({n for n in all_labels if lowered.count(n.lower()) > 1}):
        errors.append(f"{at('stages', 'labels')}: label {name!r} is used for two things")

    scoring = docs["stages"]["scoring"]
    if scoring.get("min", 1) >= scoring.get("max", 5):
        errors.append(f"{at('stages', 'scoring')}: min must be below max")

    application, report = forms[APPLICATION_TEMPLATE], forms[REPORT_TEMPLATE]
    field_ids = {f.id for f in application.fields}
    for i, field_id in enumerate(docs["eligibility"]["clear_goals"]["fields"]):
        if field_id not in field_ids:
            errors.append(
                f"{at('eligibility', f'clear_goals.fields[{i}]')}: {field_id!r} is not a field id of "
                f"{origins[APPLICATION_TEMPLATE]}"
            )
    for field_id in REQUIRED_APPLICATION_FIELDS:
        if field_id not in field_ids:
            errors.append(f"{origins[APPLICATION_TEMPLATE]}: body: needs a field with id {field_id!r}")
    if "application" not in {f.id for f in report.fields}:
        errors.append(f"{origins[REPORT_TEMPLATE]}: body: needs a field with id 'application'")

    labels = docs["stages"]["labels"]
    for base, key in ((APPLICATION_TEMPLATE, "application"), (REPORT_TEMPLATE, "report")):
        for filename in (base, *translations_of(base)):
            if filename not in forms:
                continue
            form = forms[filename]
            wanted = labels[key]["name"]
            if wanted.lower() not in {label.lower() for label in form.labels}:
                errors.append(
                    f"{origins[filename]}: labels: must include {wanted!r} "
                    f"(stages.labels.{key}) so GitHub labels new issues for the bot"
                )
            if filename != base:
                errors.extend(_translation_problems(form, forms[base], origins[filename], origins[base]))
            if form.has_field("language"):
                names = {language_name(language) for language in LANGUAGES}
                for option in form.field("language").options:
                    if option not in names:
                        errors.append(f"{origins[filename]}: language: {option!r} is not a language Fund Bot writes "
                                      f"(the options are {', '.join(sorted(names))})")

    language = docs["fund"]["language"]
    if language not in LANGUAGES:
        errors.append(f"{at('fund', 'language')}: {language!r} is not a language Fund Bot writes "
                      f"({', '.join(LANGUAGES)})")

    funding = docs["funding"]
    pool = funding.get("round", {}).get("pool")
    if pool is not None and funding["max_per_project"] > pool:
        errors.append(f"{at('funding', 'max_per_project')}: larger than round.pool")
    errors += _check_rounds(funding, lambda key: at("funding", key))
    tranches = funding.get("tranches")
    if tranches and abs(sum(Decimal(str(t)) for t in tranches) - 100) > Decimal("0.001"):
        errors.append(f"{at('funding', 'tranches')}: the parts must add up to 100 (per cent), not "
                      f"{sum(Decimal(str(t)) for t in tranches)}")
    for i, stage in enumerate(stage_docs):
        if ("min_voters" in stage or "min_approval" in stage) and not stage.get("community_vote"):
            errors.append(f"{at('stages', f'stages[{i}]')}: min_voters and min_approval need community_vote: true")
    return errors


def _check_rounds(funding: Mapping[str, Any], at: Any) -> list[str]:
    """`rounds:`: instead of `round:`, names unique, each opening before it closes, none overlapping."""
    rounds = funding.get("rounds")
    if not rounds:
        return []
    errors = []
    if "round" in funding:
        errors.append(f"{at('rounds')}: give either `round` (one round) or `rounds`, not both")
    names = [r["name"] for r in rounds]
    for name in sorted({n for n in names if names.count(n) > 1}):
        errors.append(f"{at('rounds')}: round {name!r} is defined twice")
    spans = []
    for i, r in enumerate(rounds):
        opens, closes = dt.date.fromisoformat(r["opens"]), dt.date.fromisoformat(r["closes"])
        if closes < opens:
            errors.append(f"{at(f'rounds[{i}]')}: closes before it opens")
        if r.get("max_per_project", 0) > r["pool"]:
            errors.append(f"{at(f'rounds[{i}].max_per_project')}: larger than the round's pool")
        spans.append((opens, closes, r["name"]))
    spans.sort()
    for (_, first_closes, first), (second_opens, _, second) in zip(spans, spans[1:]):
        if second_opens <= first_closes:
            errors.append(f"{at('rounds')}: rounds {first!r} and {second!r} overlap")
    return errors


def _translation_problems(form: FormTemplate, base: FormTemplate, where: str, base_where: str) -> list[str]:
    """A translation has its form's fields: the same ids and types in the same order, the same number
    of options (they are read by position), the same required flags."""
    shape = [(f.id, f.type, len(f.options), f.required) for f in form.fields]
    wanted = [(f.id, f.type, len(f.options), f.required) for f in base.fields]
    if shape == wanted:
        return []
    return [f"{where}: body: must have the fields of {base_where} (ids {', '.join(f.id for f in base.fields)}, with "
            "the same types, number of options and required flags, in that order)"]


def _label(doc: Mapping[str, Any]) -> LabelSpec:
    return LabelSpec(name=doc["name"], color=doc["color"].lower(), description=doc.get("description", ""))


def _reviewers(doc: Mapping[str, Any]) -> ReviewerRules:
    return ReviewerRules(
        users=frozenset(u.lower() for u in doc.get("users", [])),
        teams=tuple(TeamRef(*t.split("/", 1)) for t in doc.get("teams", [])),
        author_associations=frozenset(doc.get("author_associations", [])),
    )


def _build(docs: dict[str, dict[str, Any]], forms: dict[str, FormTemplate], origins: Mapping[str, str]) -> Rules:
    s = docs["stages"]
    stages = tuple(
        StageSpec(
            name=d["name"],
            label=_label(d["label"]),
            next=tuple(d.get("next", [])),
            max_days=d.get("max_days"),
            min_scores=d.get("min_scores", 0),
            community_vote=d.get("community_vote", False),
            decides=d.get("decides", False),
            reviewers=_reviewers(d["reviewers"]) if "reviewers" in d else None,
            assign_count=d.get("assign", {}).get("count", 0),
            min_voters=d.get("min_voters", 0),
            min_approval=Decimal(str(d["min_approval"])) if "min_approval" in d else None,
        )
        for d in s["stages"]
    )
    outcomes = {
        name: OutcomeSpec(name=name, label=_label(s["outcomes"][name]["label"]),
                          close_issue=s["outcomes"][name].get("close_issue", False))
        for name in OUTCOMES
    }
    labels = Labels(**{key: _label(value) for key, value in s["labels"].items()})
    stage_rules = StageRules(
        stages=stages,
        outcomes=outcomes,
        auto_advance=s.get("auto_advance", True),
        reviewers=_reviewers(s["reviewers"]),
        criteria=tuple(s["scoring"]["criteria"]),
        score_min=s["scoring"].get("min", 1),
        score_max=s["scoring"].get("max", 5),
        labels=labels,
    )
    e = docs["eligibility"]
    eligibility = EligibilityRules(
        require_osi_approved=e["licence"].get("require_osi_approved", True),
        flag_declared_mismatch=e["licence"].get("flag_declared_mismatch", True),
        window_days=e["activity"]["window_days"],
        min_commits=e["activity"].get("min_commits", 1),
        max_days_since_last_commit=e["activity"].get("max_days_since_last_commit"),
        archived_fails=e["activity"].get("archived_fails", True),
        min_contributors=e["community"]["min_contributors"],
        goal_fields=tuple(e["clear_goals"]["fields"]),
        goal_min_words=e["clear_goals"].get("min_words", 0),
    )
    r = docs["reports"]
    mentions = r.get("overdue_mentions", {})
    reports = ReportRules(
        cadence_days=r["cadence_days"],
        reminder_lead_days=r["reminder_lead_days"],
        overdue_grace_days=r["overdue_grace_days"],
        max_reports=r.get("max_reports"),
        mention_reviewers=mentions.get("reviewers", True),
        mention_assignees=mentions.get("assignees", True),
        mention_users=tuple(mentions.get("users", [])),
        min_words=r.get("min_words", 0),
    )
    f = docs["funding"]
    if "rounds" in f:
        rounds = tuple(RoundSpec(
            name=r["name"], pool=Decimal(str(r["pool"])), opens=dt.date.fromisoformat(r["opens"]),
            closes=dt.date.fromisoformat(r["closes"]),
            max_per_project=Decimal(str(r["max_per_project"])) if "max_per_project" in r else None,
        ) for r in f["rounds"])
    else:
        round_doc = f.get("round", {})
        rounds = (RoundSpec(name=round_doc.get("name") or "default",
                            pool=Decimal(str(round_doc["pool"])) if "pool" in round_doc else None,
                            opens=dt.date.fromisoformat(round_doc["starts"]) if "starts" in round_doc else None),)
    funding = FundingRules(
        currency=f.get("currency", "USD"),
        max_per_project=Decimal(str(f["max_per_project"])),
        rounds=rounds,
        dated="rounds" in f,
        tranches=tuple(Decimal(str(t)) for t in f.get("tranches", [100])),
    )
    return Rules(
        stages=stage_rules,
        eligibility=eligibility,
        reports=reports,
        funding=funding,
        application_forms=tuple(forms[n] for n in (APPLICATION_TEMPLATE, *translations_of(APPLICATION_TEMPLATE))
                                if n in forms),
        report_forms=tuple(forms[n] for n in (REPORT_TEMPLATE, *translations_of(REPORT_TEMPLATE)) if n in forms),
        language=docs["fund"]["language"],
        documents=dict(docs),
        origins=dict(origins),
    )
