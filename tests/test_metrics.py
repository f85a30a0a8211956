"""`GET /metrics` (SPEC §16): Prometheus's text format, scraped and parsed with prometheus-client's own
parser after real traffic — sandbox deliveries through the real web app; then two gunicorn web
processes and a `fundbot worker` sharing Redis and PROMETHEUS_MULTIPROC_DIR, where any scrape
reports what every process did. No label takes an issue number, a login or a repository."""
from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest
import requests
from e2e_harness import Fund, Service, Worker
from prometheus_client.parser import text_string_to_metric_families
from pipeline_world import filed

from bot.demo.world import World
from bot.metrics import ENDPOINTS, endpoint_template

BOUNDED = {"event", "action", "outcome", "method", "endpoint", "status", "installation", "result"}


def scrape(text: str) -> dict[str, Counter]:
    """{sample name: Counter({labels as a sorted tuple: value})}; every label name must be a bounded one."""
    samples: dict[str, Counter] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("fundbot_"):
                assert set(sample.labels) <= BOUNDED | {"le"}, sample
            samples.setdefault(sample.name, Counter())[tuple(sorted(sample.labels.items()))] += sample.value
    return samples


def delta(after: dict[str, Counter], before: dict[str, Counter], name: str) -> dict[tuple, float]:
    moved = after.get(name, Counter()).copy()
    moved.subtract(before.get(name, Counter()))
    return {labels: value for labels, value in moved.items() if value}


def deliveries(moved: dict[tuple, float]) -> dict[tuple[str, str, str], float]:
    return {(dict(k)["event"], dict(k)["action"], dict(k)["outcome"]): v for k, v in moved.items()}


def assert_no_unbounded_values(text: str) -> None:
    """No issue number, login or repository in any label value (installation ids are bounded)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if not sample.name.startswith("fundbot_"):
                continue  # prometheus-client's own: the interpreter's version, gc generations
            for name, value in sample.labels.items():
                assert "open-source-fund" not in value and "applicant" not in value and "tiny-org" not in value
                if name == "endpoint":
                    assert value in ENDPOINTS or value == "other", value
                elif name not in ("le", "installation", "status"):
                    assert not re.search(r"\d", value), (name, value)


def test_metrics_after_real_deliveries_through_the_web_app(world: World):
    before = scrape(world.client.get("/metrics").get_data(as_text=True))
    world.add_applicant_repo("tiny-org/tiny-inference")
    opened = filed(world.sandbox)
    world.deliver(opened)
    assert world.post(opened).json["status"] == "duplicate"  # GitHub's redelivery of the same id
    stranger = world.client.post("/webhook", data=b"{}", headers={"X-GitHub-Event": "issues/../../12345",
                                                                   "X-GitHub-Delivery": "x",
                                                                   "X-Hub-Signature-256": "sha256=00"})
    assert stranger.status_code == 401
    world.sweep()  # reads the application again: the issue and its comments answer 304
    page = world.client.get("/metrics")
    assert page.status_code == 200 and page.content_type.startswith("text/plain")
    text = page.get_data(as_text=True)
    after = scrape(text)
    moved = deliveries(delta(after, before, "fundbot_deliveries_total"))
    assert moved[("issues", "opened", "processed")] == 1
    assert moved[("issues", "opened", "duplicate")] == 1
    assert moved[("unverified", "unverified", "refused")] == 1  # a stranger's event name is never a label
    assert delta(after, before, "fundbot_delivery_processing_seconds_count")
    requested = {(dict(k)["method"], dict(k)["endpoint"], dict(k)["status"]): v
                 for k, v in delta(after, before, "fundbot_github_requests_total").items()}
    assert requested[("GET", "/repos/{owner}/{repo}/issues/{issue_number}", "200")] >= 1
    assert any(status == "304" for _, _, status in requested)  # answered from the ETag cache: free
    assert requested[("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", "201")] >= 1
    assert after["fundbot_github_rate_limit_remaining"][(("installation", "77"),)] > 0
    assert delta(after, before, "fundbot_sweeps_total") == {(("result", "ok"),): 1}
    assert () in after["fundbot_queue_depth"]  # the in-process queue's depth, read when scraped
    assert_no_unbounded_values(text)


@pytest.fixture
def guarded(sandbox, sandbox_server, app_key):
    from sandbox_fixtures import APP_ID

    w = World(sandbox, sandbox_server.url, APP_ID, app_key, settings={"metrics_token": "metrics-s3cret"})
    yield w
    w.close()


@pytest.mark.parametrize("headers, query, status", [
    ({}, "", 401),
    ({"Authorization": "Bearer wrong"}, "", 401),
    ({"Authorization": "Bearer metrics-s3cret-and-more"}, "", 401),
    ({}, "?token=metrics-s3cret", 401),  # never in the address: access logs keep addresses
    ({"Authorization": "Basic bWV0cmljcy1zM2NyZXQ="}, "", 401),
    ({"Authorization": "Bearer metrics-s3cret"}, "", 200),
], ids=["no token", "wrong", "longer", "in the query", "basic", "right"])
def test_a_metrics_token_keeps_strangers_out(guarded, headers, query, status):
    answer = guarded.client.get(f"/metrics{query}", headers=headers)
    assert answer.status_code == status
    if status == 401:
        assert answer.headers["WWW-Authenticate"].startswith("Bearer") and b"fundbot_" not in answer.data


def test_every_endpoint_the_gateway_calls_has_its_template():
    gateway = "".join((Path(__file__).resolve().parents[1] / "bot" / "github" / name).read_text()
                      for name in ("gateway.py", "app.py"))  # the endpoints, and the App's own
    called = {path.split("?")[0] for path in re.findall(r":calls: `(?:GET|POST|PATCH|DELETE|PUT) ([^` ]+)", gateway)}
    assert called and called <= set(ENDPOINTS)
    samples = {"owner": "open-source-fund", "repo": "applications", "issue_number": "12", "comment_id": "99",
               "installation_id": "77", "path": ".github/fund-bot.yml", "file_sha": "abc123", "name": "stage%3A%20x",
               "assignee": "rita", "org": "o", "team_slug": "reviewers", "username": "tess"}
    for template in ENDPOINTS:
        path = re.sub(r"\{(\w+)\}", lambda m: samples[m.group(1)], template)
        assert endpoint_template(path) == template
        assert endpoint_template("https://ghe.example.com/api/v3" + path + "?per_page=100") == template
    assert endpoint_template("https://api.github.com/repositories/123/issues?page=2") == "/repos/{owner}/{repo}/issues"
    assert endpoint_template("/repos/a/b/issues/12/../../../etc") == "other"


@pytest.mark.e2e
def test_two_web_processes_and_a_worker_report_together(world, sandbox_server, app_key, redis_url, tmp_path):
    """Several processes, one page: whichever web process answers reports the worker's processing
    too (they share PROMETHEUS_MULTIPROC_DIR), and the queue is read from RQ at scrape time."""
    from sandbox_fixtures import APP_ID

    shared = str(tmp_path / "metrics")
    env = dict(FUNDBOT_REDIS_URL=redis_url, PROMETHEUS_MULTIPROC_DIR=shared)
    world.add_applicant_repo("tiny-org/tiny-inference")
    with Service(sandbox_server.url, APP_ID, app_key, tmp_path / "web.log", WEB_CONCURRENCY="2", **env) as web, \
            Worker(sandbox_server.url, APP_ID, app_key, redis_url, tmp_path / "worker.log", **env):
        fund = Fund(world, web)
        for i in range(3):
            opened = filed(world.sandbox, f"dev{i}", f"P{i}")
            fund.act(opened, lambda n=i + 1: world.status_comment(n) is not None)
        fund.post(opened)  # the last one again: a duplicate
        pages = [_scrape_until(web.url, lambda s: _processed(s) >= 3) for _ in range(6)]  # both processes answer
    for text in pages:
        samples = scrape(text)
        assert _processed(samples) >= 3  # counted by the worker, reported by either web process
        moved = deliveries(dict(samples["fundbot_deliveries_total"]))
        assert moved[("issues", "opened", "duplicate")] == 1
        assert samples["fundbot_redis_up"][()] == 1
        assert samples["fundbot_queue_failed_jobs"][()] == 0 and () in samples["fundbot_queue_depth"]
        assert_no_unbounded_values(text)


def _processed(samples: dict[str, Counter]) -> float:
    return deliveries(dict(samples.get("fundbot_deliveries_total", {}))).get(("issues", "opened", "processed"), 0)


def _scrape_until(url: str, ready, timeout: float = 30) -> str:
    """Scrape until `ready(samples)` holds (the worker writes its figures as it finishes a job)."""
    deadline = time.monotonic() + timeout
    while True:
        text = requests.get(f"{url}/metrics", timeout=5).text
        if ready(scrape(text)) or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def test_a_scrape_while_redis_is_down_still_answers():
    from e2e_harness import free_port

    from bot.jobs.context import connect
    from bot.jobs.worker import QUEUE_NAME
    from bot.metrics import QueueCollector, exposition

    body, _ = exposition([QueueCollector(connect(f"redis://127.0.0.1:{free_port()}/0"), QUEUE_NAME)])
    samples = scrape(body.decode())
    assert samples["fundbot_redis_up"][()] == 0 and "fundbot_queue_depth" not in samples
