"""Tests for emulator.core.media_render: real files, decodable, deterministic."""

from __future__ import annotations

import pathlib

import av
import pytest
from PIL import Image

from emulator.core import media_render
from emulator.core.media_render import (
    MediaProbeError,
    probe,
    render_audio,
    render_image,
    render_video,
)

DURATION_TOLERANCE = 0.05


@pytest.fixture(scope="module")
def hd_video(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("video") / "hd.mp4"
    render_video(path, width=1280, height=720, seconds=4.0, fps=24, seed=7)
    return path


def test_hd_video_probes_as_requested(hd_video: pathlib.Path) -> None:
    info = probe(hd_video)
    assert info["kind"] == "video"
    assert info["format"] == "mp4"
    assert (info["width"], info["height"]) == (1280, 720)
    assert info["duration"] == pytest.approx(4.0, abs=DURATION_TOLERANCE)
    assert info["has_audio"] is False
    assert info["fps"] == pytest.approx(24.0)
    expected_codec = "h264" if media_render.video_encoder() == "libx264" else "mpeg4"
    assert info["video_codec"] == expected_codec


def test_hd_video_decodes_every_frame(hd_video: pathlib.Path) -> None:
    with av.open(str(hd_video)) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.pix_fmt == "yuv420p"
        frames = list(container.decode(stream))
    assert len(frames) == 96
    assert all((f.width, f.height) == (1280, 720) for f in frames)
    assert [f.pts for f in frames] == sorted(f.pts for f in frames)
    # The bar moves, so neighbouring frames must not be identical pictures.
    assert bytes(frames[0].planes[0]) != bytes(frames[1].planes[0])


@pytest.mark.parametrize(
    ("width", "height", "seconds"),
    [(864, 496, 1.0), (1470, 630, 1.0), (1112, 834, 1.0), (2206, 946, 1.0), (4398, 1886, 1.0)],
)
def test_table_sizes(tmp_path: pathlib.Path, width: int, height: int, seconds: float) -> None:
    path = tmp_path / f"{width}x{height}.mp4"
    render_video(path, width=width, height=height, seconds=seconds)
    info = probe(path)
    assert (info["width"], info["height"]) == (width, height)
    assert info["duration"] == pytest.approx(seconds, abs=DURATION_TOLERANCE)
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        packets = [p for p in container.demux(stream) if p.size]
        assert len(packets) == round(seconds * 24)
        container.seek(0)
        first = next(container.decode(stream))
    assert (first.width, first.height) == (width, height)


def test_odd_size_is_rejected(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="even"):
        render_video(tmp_path / "odd.mp4", width=1471, height=631, seconds=1.0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("bad", [{"width": 0}, {"seconds": 0.0}, {"seconds": 0.001}, {"fps": 0}])
def test_invalid_video_arguments(tmp_path: pathlib.Path, bad: dict) -> None:
    kwargs = {"width": 64, "height": 64, "seconds": 1.0, "fps": 24, **bad}
    with pytest.raises(ValueError):
        render_video(tmp_path / "bad.mp4", **kwargs)


def test_video_with_audio(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "with_audio.mp4"
    render_video(path, width=640, height=360, seconds=2.0, audio=True)
    info = probe(path)
    assert info["has_audio"] is True
    assert info["audio_codec"] == "aac"
    assert info["duration"] == pytest.approx(2.0, abs=DURATION_TOLERANCE)
    with av.open(str(path)) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.sample_rate == 48_000
        assert audio.codec_context.layout.nb_channels == 2
        samples = sum(frame.samples for frame in container.decode(audio))
    assert samples / 48_000 == pytest.approx(2.0, abs=DURATION_TOLERANCE)


def test_video_is_deterministic(tmp_path: pathlib.Path) -> None:
    first, second = tmp_path / "a.mp4", tmp_path / "b.mp4"
    render_video(first, width=320, height=240, seconds=1.5, seed=42, audio=True)
    render_video(second, width=320, height=240, seconds=1.5, seed=42, audio=True)
    assert probe(first) == probe(second)
    # The encoder is pinned to one thread, so even the bytes should match.
    assert first.read_bytes() == second.read_bytes()


def test_mpeg4_fallback(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(media_render, "_pick_encoder", lambda: "mpeg4")
    path = tmp_path / "fallback.mp4"
    render_video(path, width=864, height=496, seconds=1.0)
    info = probe(path)
    assert info["video_codec"] == "mpeg4"
    assert info["duration"] == pytest.approx(1.0, abs=DURATION_TOLERANCE)
    with av.open(str(path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 24


def test_atomic_write_leaves_no_temp_files(tmp_path: pathlib.Path) -> None:
    target = tmp_path / "out.mp4"
    target.write_bytes(b"old")
    render_video(target, width=64, height=64, seconds=0.5)
    render_image(tmp_path / "out.png", width=8, height=8)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "out.png"]
    assert probe(target)["kind"] == "video"


@pytest.mark.parametrize(
    ("fmt", "pil_format"), [("png", "PNG"), ("jpeg", "JPEG"), ("webp", "WEBP")]
)
def test_images(tmp_path: pathlib.Path, fmt: str, pil_format: str) -> None:
    path = tmp_path / f"image.{fmt}"
    render_image(path, width=1470, height=630, fmt=fmt, seed=3)
    with Image.open(path) as img:
        assert img.format == pil_format
        assert img.size == (1470, 630)
        img.load()
    info = probe(path)
    assert info["kind"] == "image"
    assert info["format"] == fmt
    assert (info["width"], info["height"]) == (1470, 630)
    assert info["duration"] is None
    assert info["has_audio"] is False


@pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
def test_images_are_deterministic(tmp_path: pathlib.Path, fmt: str) -> None:
    a, b, c = (tmp_path / f"{name}.{fmt}" for name in "abc")
    render_image(a, width=300, height=200, fmt=fmt, seed=11)
    render_image(b, width=300, height=200, fmt=fmt, seed=11)
    render_image(c, width=300, height=200, fmt=fmt, seed=12)
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != c.read_bytes()


def test_unknown_image_format(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ValueError, match="unsupported"):
        render_image(tmp_path / "x.bmp", width=8, height=8, fmt="bmp")


@pytest.mark.parametrize(
    ("suffix", "fmt", "codec"), [(".m4a", "m4a", "aac"), (".mp3", "mp3", "mp3")]
)
def test_audio(tmp_path: pathlib.Path, suffix: str, fmt: str, codec: str) -> None:
    path = tmp_path / f"tone{suffix}"
    render_audio(path, seconds=3.0, seed=5)
    info = probe(path)
    assert info["kind"] == "audio"
    assert info["format"] == fmt
    assert info["audio_codec"] == codec
    assert info["has_audio"] is True
    assert info["width"] is None
    assert info["duration"] == pytest.approx(3.0, abs=DURATION_TOLERANCE)
    with av.open(str(path)) as container:
        assert sum(f.samples for f in container.decode(audio=0)) > 0


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("notes.txt", b"this is just some text\nnot a video at all\n" * 20),
        ("empty.mp4", b""),
        ("fake.mp4", b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 4),
        ("fake.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
    ],
)
def test_probe_rejects_garbage(tmp_path: pathlib.Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(MediaProbeError):
        probe(path)


def test_probe_missing_file(tmp_path: pathlib.Path) -> None:
    with pytest.raises(MediaProbeError):
        probe(tmp_path / "nope.mp4")
    assert issubclass(MediaProbeError, ValueError)
