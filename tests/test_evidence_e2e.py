"""The evidence pack against the sandbox (issue 21): read after the status comment, bounded (at most 25 GitHub
requests, one per outside service), cached, GitHub's 202 retried a bounded number of times; every bad input
a clear line of the pack — never an exception, never a stalled application; asked for again by a report and
`/evidence`; repaired by the sweep when its job was lost; thresholds with the usual waivers; in the dashboard's
rows and the export. The pure tables are tests/test_evidence.py."""
from __future__ import annotations

import datetime as dt
import threading

import pytest
from factories import application_body
from pipeline_world import filed, number_of

from bot.config.rules import fund_rules
from bot.demo import evidence as demo_evidence
from bot.demo.world import FUND_REPO, World
from bot.github.insights import MAX_REQUESTS, STATS_ATTEMPTS
from bot.jobs.evidence import follow_up
from bot.views.export import record as export_record
from bot.views.rows import pipeline_rows

REPO = "tiny-org/tiny-inference"
OUTSIDE = ("scorecard", "depsdev", "pypistats", "npm")


def file(world: World, repo: str = REPO, user: str = "ada", **answers: object) -> int:
    answers.setdefault("repository", f"https://github.com/{repo}")
    delivery = filed(world.sandbox, user, **answers)
    world.deliver(delivery)
    return number_of(delivery)


def pack_requests(world: World, repo: str = REPO) -> list:
    """The requests made of the applicant's repository after the eligibility checks (the pack's own)."""
    own = [r for r in world.sandbox.requests() if r.path.startswith(f"/repos/{repo}")]
    checks = {f"/repos/{repo}/commits", f"/repos/{repo}/contributors"}
    last_check = max((i for i, r in enumerate(own) if r.path in checks), default=-1)
    return own[last_check + 1:]


def evidence(world: World, number: int) -> str:
    body = world.status_comment(number) or ""
    return body[body.index("<details>"):body.index("</details>")] if "<details>" in body else ""


@pytest.fixture
def rich(world):
    """The demo's applicant repository: files, stars, releases, outside issues, Scorecard, a PyPI package."""
    world.add_applicant_repo(REPO)
    demo_evidence.seed(world.sandbox, REPO)
    world.context.sleep = lambda seconds: None  # a 202's wait, in tests
    return world


def test_the_pack_follows_the_status_comment_and_is_bounded(rich):
    sandbox = rich.sandbox
    number = file(rich)
    requests = sandbox.requests()
    created = next(i for i, r in enumerate(requests) if r.method == "POST" and r.path.endswith(f"/issues/{number}/comments"))
    assert "being read" in requests[created].body["body"]  # the first answer did not wait for the pack
    first_pack_read = next(i for i, r in enumerate(requests) if r.path.endswith("/community/profile"))
    assert created < first_pack_read
    github = pack_requests(rich)
    assert len(github) <= MAX_REQUESTS
    assert all(len(sandbox.outside_requests(service)) == 1 for service in ("scorecard", "depsdev", "pypistats"))
    assert sandbox.outside_requests("npm") == []  # no npm package: nothing asked, and said so
    shown = evidence(rich, number)
    for line in ("★ 180", "Scorecard 6.1", "| Dependents | 48 (11 direct) of pypi:tiny-inference 1.2.0 | deps.dev |",
                 "5,200 of pypi:tiny-inference", "SECURITY ✅", "no npm package is named"):
        assert line in shown
    record = rich.record(number)
    assert record.evidence.first == record.evidence.latest and record.evidence.latest.requests == len(github)
    assert len(rich.status_comments(number)) == 1 and len(rich.bot_comments(number)) == 1


def test_a_second_application_for_the_same_repository_uses_the_cache(rich):
    file(rich)
    before = len(rich.sandbox.requests())
    outside = len(rich.sandbox.outside_requests())
    second = file(rich, user="bo")
    after = [r.path for r in rich.sandbox.requests()[before:] if r.path.startswith(f"/repos/{REPO}")]
    assert not [p for p in after if "/stats/" in p or "/community/" in p or "/stargazers" in p]  # no second pack
    assert len(rich.sandbox.outside_requests()) == outside
    assert "★ 180" in evidence(rich, second)


def test_statistics_still_computing_are_asked_a_bounded_number_of_times(rich):
    rich.sandbox.compute_stats_slowly(REPO, answers=100)  # GitHub keeps answering 202
    number = file(rich)
    stats = [r for r in rich.sandbox.requests() if "/stats/" in r.path]
    assert len([r for r in stats if r.path.endswith("/contributors")]) == STATS_ATTEMPTS
    assert len([r for r in stats if r.path.endswith("/participation")]) == STATS_ATTEMPTS
    assert "GitHub is still computing this" in evidence(rich, number)
    assert rich.record(number).stage == "technical"  # the application goes on


def test_statistics_computed_on_the_second_ask_are_read(rich):
    rich.sandbox.compute_stats_slowly(REPO, answers=1)
    number = file(rich)
    assert "| Contributors | 5 active in 90 days" in evidence(rich, number)


@pytest.mark.parametrize("case,seed,said", [
    ("missing", lambda w: None, "GitHub has no public repository tiny-org/tiny-inference: no evidence could be read."),
    ("empty", lambda w: w.sandbox.add_repo(REPO, empty=True), "The repository is empty (no commits)."),
    ("archived", lambda w: w.add_applicant_repo(REPO, archived=True), "The repository is archived (read-only)."),
    ("fork", lambda w: (w.add_applicant_repo("upstream/tiny"), w.sandbox.fork_repo("upstream/tiny", REPO)),
     "GitHub gives no community profile for a fork"),
    ("10000-commits", lambda w: (w.add_applicant_repo(REPO), w.sandbox.set_history_size(REPO, 12_000)),
     "GitHub does not compute these statistics for repositories with 10,000 commits or more"),
    ("unknown-package", lambda w: (w.add_applicant_repo(REPO),
                                   w.sandbox.add_file(REPO, "package.json", '{"name": "ghost-pkg", "version": "0.1.0"}')),
     "npm does not know the package npm:ghost-pkg"),
    ("unknown-package-on-the-form", lambda w: w.add_applicant_repo(REPO),
     "pypistats.org does not know the package pypi:ghost-on-pypi"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_input_is_a_clear_line_never_a_stall(world, case, seed, said):
    seed(world)
    world.context.sleep = lambda seconds: None
    number = file(world, packages="pypi:ghost-on-pypi" if case == "unknown-package-on-the-form" else None)
    assert said in evidence(world, number)
    record = world.record(number)
    assert record.evidence is not None and record.evidence.latest is not None  # read: nothing waits any more
    assert len(world.status_comments(number)) == 1
    before = len(world.sandbox.requests()), len(world.sandbox.outside_requests())
    result = world.sweep()  # the sweep finds nothing left to read, and nothing failed
    assert result.ok
    assert not [r for r in world.sandbox.requests()[before[0]:] if r.path.startswith(f"/repos/{REPO}")]
    assert len(world.sandbox.outside_requests()) == before[1]


def test_a_fork_is_said_with_its_parent(world):
    world.add_applicant_repo("upstream/tiny")
    world.sandbox.fork_repo("upstream/tiny", REPO)
    number = file(world)
    assert "The repository is a fork of upstream/tiny." in evidence(world, number)
    assert not [r for r in world.sandbox.requests() if r.path.endswith("/community/profile")]  # not even asked


@pytest.mark.parametrize("trouble,said", [
    ({"latency_ms": 1500}, "OpenSSF Scorecard did not answer in 0.3 s"),
    ({"status": 500}, "OpenSSF Scorecard answered 500"),
], ids=["slow", "failing"])
def test_an_outside_service_in_trouble_is_said_and_costs_its_timeout(rich, trouble, said):
    rich.use_rules(fund_rules(rich.rules, "evidence:\n  timeout_seconds: 0.3\n", {}))
    rich.sandbox.trouble("scorecard", **trouble)
    number = file(rich)
    shown = evidence(rich, number)
    assert said in shown and "| Dependents | 48" in shown  # the others are read all the same
    assert len(rich.sandbox.outside_requests("scorecard")) == 1  # never retried within a pack


def test_sources_switched_off_are_said_and_never_asked(rich):
    rich.use_rules(fund_rules(rich.rules, "evidence:\n  sources: {scorecard: false, dependents: false, stars: false}\n",
                              {}))
    number = file(rich)
    shown = evidence(rich, number)
    assert shown.count("switched off in the fund's rules") == 3
    assert rich.sandbox.outside_requests("scorecard") == rich.sandbox.outside_requests("depsdev") == []
    assert not [r for r in rich.sandbox.requests() if r.path.endswith("/stargazers")]


def test_evidence_switched_off_reads_nothing(rich):
    rich.use_rules(fund_rules(rich.rules, "evidence:\n  enabled: false\n", {}))
    number = file(rich)
    assert evidence(rich, number) == "" and pack_requests(rich) == [] and rich.sandbox.outside_requests() == []


def test_a_report_and_evidence_read_the_pack_again_with_the_change(rich):
    number = file(rich)
    for user, text in (("rita", "/score technical 4"), ("ravi", "/score technical 4\n/advance"), ("rita", "/advance"),
                       ("ravi", "/score funding 4\n/advance"), ("rita", "/approve 40000")):
        rich.deliver(rich.sandbox.comment(FUND_REPO, number, user, text))
    assert rich.record(number).funded
    rich.sandbox.travel(dt.timedelta(days=80))
    demo_evidence.grow(rich.sandbox, REPO)
    rich.deliver(rich.sandbox.comment(FUND_REPO, number, "ada", "/report\n" + "We shipped the plugin API and more. " * 4))
    replies = [c for c in rich.bot_comments(number) if "Evidence at this progress report" in c]
    assert len(replies) == 1 and "| Stars | 180 | 225 | +45 |" in replies[0] and "| Dependents | 48 | 63 | +15 |" in replies[0]
    assert "**Since the application**" in evidence(rich, number)
    # A reviewer asks again before accepting: answered from the pack just read (younger than ten minutes).
    outside = len(rich.sandbox.outside_requests())
    rich.deliver(rich.sandbox.comment(FUND_REPO, number, "rita", "/evidence"))
    answers = [c for c in rich.bot_comments(number) if c.startswith("@rita the evidence now")]
    assert len(answers) == 1 and len(rich.sandbox.outside_requests()) == outside
    rich.sandbox.travel(dt.timedelta(hours=1))
    rich.deliver(rich.sandbox.comment(FUND_REPO, number, "ravi", "/evidence"))
    assert len(rich.sandbox.outside_requests()) == outside + 3  # an hour later: read afresh
    rich.deliver(rich.sandbox.comment(FUND_REPO, number, "rita", "/accept-report"))
    assert rich.record(number).reports[-1].review == "accepted"
    rich.sweep()
    assert len([c for c in rich.bot_comments(number) if "the evidence now" in c]) == 2  # each answered once


def test_a_strangers_evidence_costs_no_pack(rich):
    number = file(rich)
    before = len(pack_requests(rich)), len(rich.sandbox.outside_requests())
    rich.deliver(rich.sandbox.comment(FUND_REPO, number, "stan", "/evidence"))
    assert (len(pack_requests(rich)), len(rich.sandbox.outside_requests())) == before
    assert any("is for reviewers" in c for c in rich.bot_comments(number))


def test_a_lost_follow_up_is_repaired_by_the_sweep(rich):
    rich.context.later = lambda *job: False  # the job is lost (a restart)
    number = file(rich)
    assert "being read" in rich.status_comment(number) and rich.record(number).evidence is None
    rich.sweep()
    assert "★ 180" in evidence(rich, number)
    outside = len(rich.sandbox.outside_requests())
    rich.sweep()
    assert len(rich.sandbox.outside_requests()) == outside  # read once: the next sweep reads nothing


def test_a_pack_read_while_a_delivery_is_processed_loses_neither(rich):
    """The pack is read outside the application's lock and taken in under it, on the record read again: a
    comment processed while the pack was being read is kept, and the pack lands too, in one status comment."""
    number = file(rich)
    rich.sandbox.travel(dt.timedelta(days=2))
    rich.context.later = lambda *job: False  # the follow-up is run by hand below
    rich.deliver(rich.sandbox.comment(FUND_REPO, number, "rita", "/evidence"))
    assert rich.record(number).evidence.asks
    rich.sandbox.trouble("scorecard", latency_ms=800)  # the pack is still being read when the comment comes
    gateway = rich.github.for_repository(FUND_REPO)
    reading = threading.Thread(target=follow_up, args=(rich.context, gateway, FUND_REPO, number), kwargs={"rules": rich.rules})
    asked_before = len(rich.sandbox.outside_requests("scorecard"))
    reading.start()
    deadline = threading.Event()
    for _ in range(200):
        if len(rich.sandbox.outside_requests("scorecard")) > asked_before:
            break
        deadline.wait(0.02)
    rich.deliver(rich.sandbox.comment(FUND_REPO, number, "ravi", "/score technical 5"))
    reading.join(30)
    record = rich.record(number)
    assert [s.value for s in record.scores if s.reviewer == "ravi"] == [5]  # the delivery's change is kept
    assert not record.evidence.asks and record.evidence.latest.at > record.evidence.first.at  # and the pack's
    assert len(rich.status_comments(number)) == 1
    assert len([c for c in rich.bot_comments(number) if c.startswith("@rita the evidence now")]) == 1


def test_thirty_applications_get_their_first_answers_whatever_the_packs_do(sandbox, sandbox_server, app_key):
    """Packs run on a thread of their own: with it held up, a burst of thirty still gets every first answer —
    and then every pack (one read, cached for all)."""
    from sandbox_fixtures import APP_ID

    world = World(sandbox, sandbox_server.url, APP_ID, app_key, workers=2)
    try:
        world.add_applicant_repo(REPO)
        demo_evidence.seed(sandbox, REPO)
        gate = threading.Event()
        world.runtime.queue.submit_job("hold", gate.wait)  # the packs' thread is busy, for as long as it takes
        numbers = []
        for i in range(30):
            delivery = filed(sandbox, f"applicant{i}", repository=f"https://github.com/{REPO}")
            world.post(delivery, wait=False)
            numbers.append(int(delivery.payload["issue"]["number"]))
        answered = threading.Event()
        for _ in range(3000):  # polled, with a deadline of a minute: nothing is timed
            if all(world.status_comment(n) for n in numbers):
                answered.set()
                break
            answered.wait(0.02)
        assert answered.is_set(), "the first answers waited for the packs"
        assert not [r for r in sandbox.requests() if r.path.endswith("/community/profile")]  # no pack read yet
        assert all("being read" in world.status_comment(n) for n in numbers)
        gate.set()
        assert world.runtime.queue.join(60)
        assert all("★ 180" in (world.status_comment(n) or "") for n in numbers)
        assert len([r for r in sandbox.requests() if r.path.endswith("/community/profile")]) == 1  # cached for all
    finally:
        world.close()


def test_thresholds_wait_for_the_pack_and_take_the_usual_waivers(rich):
    rich.use_rules(fund_rules(rich.rules, "evidence:\n  thresholds:\n    min_dependents: {value: 100, as: eligibility}\n",
                              {}))
    number = file(rich)
    record = rich.record(number)
    assert not record.eligible and record.stage == "screening"  # 48 dependents: below the fund's 100
    assert "eligibility: failed" in rich.labels(number)
    assert "The fund asks for dependents of at least 100." in rich.status_comment(number)
    rich.deliver(rich.sandbox.comment(FUND_REPO, number, "rita", "/waive dependents used by a few large projects"))
    assert rich.record(number).eligible and rich.record(number).stage == "technical"


def test_an_application_in_chinese_gets_its_evidence_in_chinese(rich):
    delivery = rich.sandbox.open_issue(FUND_REPO, "ada", "[申请]: Tiny", application_body(lang="zh"),
                                       labels=["fund: application"])
    rich.deliver(delivery)
    number = int(delivery.payload["issue"]["number"])
    shown = evidence(rich, number)
    assert "证据" in shown and "被依赖" in shown and "星标" in shown


def test_the_dashboard_rows_and_the_export_carry_the_pack_and_its_change(rich):
    number = file(rich)
    gateway = rich.github.for_repository(FUND_REPO)
    row = next(r for r in pipeline_rows(gateway, FUND_REPO, rich.rules, rich.sandbox.now().date()) if r.number == number)
    assert row.evidence is not None and row.evidence.figure("stars", "count") == 180
    out = export_record(row, rich.rules)
    assert out["stars"] == 180 and out["dependents"] == 48 and out["stars_change"] == 0
    assert out["evidence_read_on"] == rich.sandbox.now().date().isoformat()


def test_the_sweep_never_reads_a_pack_twice_for_a_stable_fund(rich):
    numbers = [file(rich, user=f"a{i}") for i in range(3)]
    outside = len(rich.sandbox.outside_requests())
    result = rich.sweep()
    assert result.ok and len(rich.sandbox.outside_requests()) == outside
    assert all(rich.record(n).evidence.latest is not None for n in numbers)


def test_follow_up_without_a_record_does_nothing(rich):
    gateway = rich.github.for_repository(FUND_REPO)
    number = rich.sandbox.add_issue(FUND_REPO, "ada", "not yet seen", application_body())
    assert follow_up(rich.context, gateway, FUND_REPO, number, rules=rich.rules) is None


def test_with_redis_the_pack_is_an_rq_job_of_its_own_queue_taken_after_the_deliveries(sandbox, sandbox_server, app_key,
                                                                                     redis_url):
    from redis import Redis
    from rq import Queue
    from sandbox_fixtures import APP_ID

    from bot.jobs.worker import LATER_QUEUE, QUEUE_NAME

    world = World(sandbox, sandbox_server.url, APP_ID, app_key, redis_url=redis_url)
    try:
        world.add_applicant_repo(REPO)
        demo_evidence.seed(sandbox, REPO)
        client = Redis.from_url(redis_url)
        delivery = filed(sandbox, "ada")
        world.post(delivery, wait=False)
        assert Queue(QUEUE_NAME, connection=client).count == 1 and Queue(LATER_QUEUE, connection=client).count == 0
        world.work()  # `fundbot worker --burst`: the delivery, then the pack it queued
        number = int(delivery.payload["issue"]["number"])
        assert "★ 180" in evidence(world, number) and len(world.status_comments(number)) == 1
        assert Queue(LATER_QUEUE, connection=client).count == 0
        world.post(delivery, wait=False)  # GitHub's redelivery: a duplicate, no second pack
        world.work()
        assert len([r for r in sandbox.requests() if r.path.endswith("/community/profile")]) == 1
    finally:
        world.close()


def test_outside_answers_are_bounded_and_checked(sandbox_server, sandbox):
    """A service's answer is at most a megabyte of JSON with the figures where its documentation puts them;
    anything else is "answered N", never an exception."""
    from bot.outside import services
    from bot.outside.client import Client, Services, Unanswered

    base = sandbox_server.url
    client = Client(Services(f"{base}/scorecard", f"{base}/depsdev", f"{base}/pypistats", f"{base}/npm"))
    sandbox.add_package("npm", "@tiny/rt", version="0.3.1", dependents=5, direct=2, month=70)
    assert services.npm_downloads(client, "@tiny/rt", 1.0) == {"month": 70}
    assert services.dependents(client, "npm", "@tiny/rt", "0.3.1", 1.0) == {"count": 5, "direct": 2}
    assert services.dependents(client, "npm", "@tiny/rt", "9.9.9", 1.0) is None  # that version: unknown
    assert services.pypi_downloads(client, "ghost", 1.0) is None  # pypistats' plain 404 page
    assert services.scorecard(client, "nobody/nothing", 1.0) is None
    sandbox.trouble("npm", status=503)
    with pytest.raises(Unanswered) as caught:
        services.npm_downloads(client, "@tiny/rt", 1.0)
    assert caught.value.kind == "error" and caught.value.status == 503
    sandbox.trouble("npm", latency_ms=600)
    with pytest.raises(Unanswered) as caught:
        services.npm_downloads(client, "@tiny/rt", 0.2)
    assert caught.value.kind == "timeout" and caught.value.seconds == 0.2
    assert client.requests == {"npm": 3, "deps.dev": 2, "pypistats": 1, "scorecard": 1}


def test_a_hostile_packages_answer_and_manifest_are_bounded(world):
    world.add_applicant_repo(REPO)
    world.sandbox.add_file(REPO, "package.json", '{"name": "../../etc/passwd", "version": "1.0.0"}')
    world.sandbox.add_file(REPO, "pyproject.toml", '[project]\nname = "' + "x" * 5000 + '"\n')
    number = file(world, packages="pypi:" + "a b " * 25_000)  # 100 KB of it
    status = world.status_comment(number) or ""
    assert "name each package as pypi:NAME or npm:NAME" in status and len(status) < 60_000
    shown = evidence(world, number)
    assert "no PyPI or npm package is named" in shown  # neither the form's nor the repository's names are sent
    assert world.sandbox.outside_requests("npm") == world.sandbox.outside_requests("pypistats") == []
