"""The rules' documents, once valid, built into policy's typed structures (`bot.policy.rules`)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from bot.config.files import APPLICATION_TEMPLATE, REPORT_TEMPLATE, translations_of
from bot.policy.form_template import FormTemplate
from bot.policy.governance_rules import ApprovalRules, LeadRules, VoteClose, VoteWindow, VoterKind, VoterRules
from bot.policy.rules import (
    EVIDENCE_SOURCES,
    EligibilityRules,
    EvidenceRules,
    FundingRules,
    Labels,
    LabelSpec,
    OutcomeSpec,
    ReportRules,
    ReviewerRules,
    RoundSpec,
    Rules,
    StageRules,
    StageSpec,
    TeamRef,
    Threshold,
)

OUTCOMES = ("funded", "declined", "withdrawn")


def _label(doc: Mapping[str, Any]) -> LabelSpec:
    return LabelSpec(name=doc["name"], color=doc["color"].lower(), description=doc.get("description", ""))


def _reviewers(doc: Mapping[str, Any]) -> ReviewerRules:
    return ReviewerRules(
        users=frozenset(u.lower() for u in doc.get("users", [])),
        teams=tuple(TeamRef(*t.split("/", 1)) for t in doc.get("teams", [])),
        author_associations=frozenset(doc.get("author_associations", [])),
    )


def _voters(doc: Mapping[str, Any]) -> VoterRules:
    return VoterRules(who=VoterKind(doc["who"]), org=doc.get("org", ""), team=doc.get("team", ""),
                      min_account_days=doc.get("min_account_days", 0), min_contributions=doc.get("min_contributions", 0))


def _vote(doc: Mapping[str, Any]) -> VoteWindow:
    return VoteWindow(min_days=doc.get("min_days", 0), max_days=doc.get("max_days"),
                      close=VoteClose(doc.get("close", "auto")))


def _leads(doc: Mapping[str, Any]) -> LeadRules:
    return LeadRules(users=tuple(doc.get("users", [])), teams=tuple(doc.get("teams", [])),
                     after_days=doc.get("after_days", 7))


def _approvals(doc: Mapping[str, Any]) -> ApprovalRules:
    return ApprovalRules(grant=doc.get("grant", 1), tranche=doc.get("tranche", 1),
                         above=Decimal(str(doc["above"])) if "above" in doc else None)


def build_rules(docs: dict[str, dict[str, Any]], forms: dict[str, FormTemplate], origins: Mapping[str, str],
                key_origins: Mapping[str, str]) -> Rules:
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
            vote=_vote(d["vote"]) if "vote" in d else None,
            voters=_voters(d["voters"]) if "voters" in d else None,
            leads=_leads(d["leads"]) if "leads" in d else None,
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
        voters=_voters(s["voters"]) if "voters" in s else VoterRules(),
        digest=s.get("digest", False),
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
        approvals=_approvals(f.get("approvals", {})),
    )
    return Rules(
        evidence=_evidence(docs.get("evidence") or {}),
        stages=stage_rules,
        eligibility=eligibility,
        reports=reports,
        funding=funding,
        application_forms=tuple(forms[n] for n in (APPLICATION_TEMPLATE, *translations_of(APPLICATION_TEMPLATE))
                                if n in forms),
        report_forms=tuple(forms[n] for n in (REPORT_TEMPLATE, *translations_of(REPORT_TEMPLATE)) if n in forms),
        language=docs["fund"]["language"],
        showcase=docs["fund"].get("showcase", True),
        documents=dict(docs),
        origins=dict(origins),
        key_origins=dict(key_origins),
    )


def _evidence(doc: Mapping[str, Any]) -> EvidenceRules:
    sources = doc.get("sources") or {}
    return EvidenceRules(
        enabled=doc.get("enabled", True),
        cache_hours=doc.get("cache_hours", 24),
        timeout_seconds=float(doc.get("timeout_seconds", 3)),
        responsiveness_sample=doc.get("responsiveness_sample", 30),
        sources=frozenset(s for s in EVIDENCE_SOURCES if sources.get(s, True)),
        thresholds=tuple(Threshold(key, Decimal(str(t["value"])), t.get("as", "attention") == "eligibility")
                         for key, t in sorted((doc.get("thresholds") or {}).items()) if t is not None),
    )
