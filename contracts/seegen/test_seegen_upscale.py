"""seegen.md, "POST /api/v1/upscale/create" and "GET /api/v1/upscale/query": the standalone
upscaler's lifecycle, pricing (5 s minimum; 25 / 38 / 50 credits per second), constraints and
every documented error code; failures are refunded in full."""

from __future__ import annotations

import pathlib
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from client import BadRequestError, NotFoundError, PermissionDeniedError
from client.seegen import SeeGen, Task, UpscaleTask
from emulator.core.media_render import probe

from .._support import Account, Clock
from ._support import STANDALONE_MIN_SECONDS, STANDALONE_RATES, UPSCALE_ERROR_CODES, video_url

Finish = Callable[[SeeGen, str], Task]
FinishUpscale = Callable[[SeeGen, str], UpscaleTask]
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")

pytestmark = pytest.mark.emulator_only  # sources are probed by the emulator's URL convention


def test_a_job_goes_validating_processing_completed(client: SeeGen, clock: Clock, account: Account) -> None:
    created = client.upscale.create(url=video_url(30), target_resolution="4k")
    assert created.status == "validating" and created.order_id
    first = client.upscale.query(created.task_id)
    assert (first.status, first.credits_consumed, first.result, first.error, first.finished_at) == (
        "validating", None, None, None, None)
    assert ISO.match(first.created_at)
    seen = [first.status]
    for _ in range(60):
        clock.advance(5)
        job = client.upscale.query(created.task_id)
        if job.status != seen[-1]:
            seen.append(job.status)
        if job.done:
            break
    assert seen == ["validating", "processing", "completed"]
    assert job.credits_consumed == 30 * STANDALONE_RATES["4k"]
    assert job.result is not None and job.result.probed_duration_seconds == 30
    assert job.result.probed_source_resolution == "1280x720"
    assert job.finished_at is not None and ISO.match(job.finished_at) and job.target_resolution == "4k"
    account.expect(created.task_id, [("hold", 1500), ("settle", 1500)])


@pytest.mark.parametrize("tier", list(STANDALONE_RATES))
@pytest.mark.parametrize(("seconds", "billed"), [(3, STANDALONE_MIN_SECONDS), (5, 5), (12, 12), (12.2, 13),
                                                  (600, 600)])
def test_price_per_billable_second_with_a_5s_minimum(client: SeeGen, finish_upscale: FinishUpscale, tier: str,
                                                     seconds: float, billed: int) -> None:
    job = finish_upscale(client, client.upscale.create(url=video_url(seconds, 960, 540),
                                                       target_resolution=tier).task_id)
    assert job.status == "completed" and job.credits_consumed == billed * STANDALONE_RATES[tier]


def test_an_emulator_output_can_be_upscaled_by_its_url(client: SeeGen, finish: Finish,
                                                       finish_upscale: FinishUpscale, tmp_path: pathlib.Path) -> None:
    """"Or with an asset already uploaded to our R2": the `uploadId` source."""
    task = finish(client, client.jobs.create_task("sd2-fast", prompt="p", duration="4s",
                                                  resolution="720x720").task_id)
    job = finish_upscale(client, client.upscale.create(r2_url=task.output[0].url, target_resolution="1080p").task_id)
    assert job.status == "completed" and job.credits_consumed == 5 * STANDALONE_RATES["1080p"]
    assert job.result is not None and job.result.probed_source_resolution == "720x720"
    assert job.result.probed_duration_seconds == 4
    path = tmp_path / "up.mp4"
    path.write_bytes(httpx.get(job.result.url, timeout=120).content)
    media = probe(path)
    assert (media["width"], media["height"]) == (1080, 1080)
    assert media["duration"] == pytest.approx(4, abs=0.1)


FAILURES = [
    pytest.param(video_url(601), "4k", "DURATION_EXCEEDS_LIMIT", id="over-600s"),
    pytest.param(video_url(10, 1920, 1080), "1080p", "SOURCE_RESOLUTION_TOO_HIGH", id="1080p-to-1080p"),
    pytest.param(video_url(10, 2560, 1440), "2k", "SOURCE_RESOLUTION_TOO_HIGH", id="2k-to-2k"),
    pytest.param(video_url(10) + "&size=209715201", "2k", "FILE_TOO_LARGE", id="over-200MB"),
    pytest.param("https://cdn.example.com/clip.avi", "2k", "UNSUPPORTED_MEDIA_TYPE", id="avi"),
    pytest.param("https://cdn.example.com/photo.png", "2k", "UNSUPPORTED_MEDIA_TYPE", id="an-image"),
    pytest.param(video_url(10) + "&unreachable", "2k", "URL_NOT_REACHABLE", id="unreachable"),
    pytest.param("https://192.168.1.20/clip.mp4", "2k", "URL_RESOLVES_TO_PRIVATE_IP", id="private-ip"),
    pytest.param("https://metadata.internal/clip.mp4", "2k", "URL_RESOLVES_TO_PRIVATE_IP", id="internal-host"),
    pytest.param(video_url(10) + "&probe_failed", "2k", "PROBE_FAILED", id="probe-failed"),
    pytest.param(video_url(10) + "&emulator:fail", "2k", "UPSTREAM_FAILED", id="upstream"),
]


@pytest.mark.parametrize(("url", "tier", "code"), FAILURES)
def test_each_failure_has_its_code_and_costs_nothing(client: SeeGen, finish_upscale: FinishUpscale,
                                                     account: Account, url: str, tier: str, code: str) -> None:
    assert code in UPSCALE_ERROR_CODES
    before = client.account.credits()
    job = finish_upscale(client, client.upscale.create(url=url, target_resolution=tier).task_id)
    assert job.status == "failed" and job.error is not None and job.error.code == code and job.error.message
    assert job.credits_consumed is None and job.result is None
    assert client.account.credits() == before  # "On any failure, credits are fully refunded."


def test_a_1080p_source_can_go_to_2k_or_4k(client: SeeGen, finish_upscale: FinishUpscale) -> None:
    for tier in ("2k", "4k"):
        job = finish_upscale(client, client.upscale.create(url=video_url(10, 1920, 1080),
                                                           target_resolution=tier).task_id)
        assert job.status == "completed"


def test_not_enough_credits_fails_the_job(make_account: Callable[..., Account], make_client: Callable[..., SeeGen],
                                          finish_upscale: FinishUpscale) -> None:
    poor = make_account(credits=100)
    client = make_client(api_key=poor.api_key)
    with poor.unchanged():
        job = finish_upscale(client, client.upscale.create(url=video_url(10), target_resolution="1080p").task_id)
    assert job.status == "failed" and job.error is not None and job.error.code == "INSUFFICIENT_CREDITS"


@pytest.mark.parametrize(("body", "param"), [
    ({"source": {"type": "url", "url": "http://cdn.example.com/a.mp4"}, "targetResolution": "4k"}, "source.url"),
    ({"source": {"type": "url"}, "targetResolution": "4k"}, "source.url"),
    ({"source": {"type": "uploadId"}, "targetResolution": "4k"}, "source.r2Url"),
    ({"source": {"type": "file", "url": "https://e.com/a.mp4"}, "targetResolution": "4k"}, "source.type"),
    ({"source": {"type": "url", "url": "https://e.com/a.mp4"}, "targetResolution": "8k"}, "targetResolution"),
    ({"source": {"type": "url", "url": "https://e.com/a.mp4"}}, "targetResolution"),
    ({"targetResolution": "4k"}, "source"),
])
def test_an_invalid_request_is_400_naming_the_field(raw: httpx.Client, account: Account, body: dict[str, Any],
                                                    param: str) -> None:
    """"http URLs and private/internal IPs are rejected" (http at once; private IPs by the probe)."""
    with account.unchanged():
        response = raw.post("upscale/create", json=body)
    assert response.status_code == 400 and response.json()["param"] == param


def test_unknown_and_foreign_jobs(client: SeeGen, make_account: Callable[..., Account],
                                  make_client: Callable[..., SeeGen]) -> None:
    with pytest.raises(NotFoundError):
        client.upscale.query("upscale_nope")
    job = client.upscale.create(url=video_url(10), target_resolution="2k")
    with pytest.raises(NotFoundError):  # an upscale id is not a generation task
        client.jobs.query_task(job.task_id)
    with pytest.raises(PermissionDeniedError):
        make_client(api_key=make_account().api_key).upscale.query(job.task_id)


def test_the_client_needs_exactly_one_source(client: SeeGen) -> None:
    with pytest.raises(ValueError):
        client.upscale.create(target_resolution="2k")
    with pytest.raises(BadRequestError):
        client.upscale.create(url="ftp://e.com/a.mp4", target_resolution="2k")
