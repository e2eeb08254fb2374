"""Render small but real, decodable media files, and probe media files.

Everything here is a pure function of its arguments (plus the installed FFmpeg
build inside PyAV): the same seed gives the same picture and sound. Files are
written to a temporary sibling and moved into place with ``os.replace`` so a
concurrent reader never observes a half-written file.
"""

from __future__ import annotations

import contextlib
import math
import os
import pathlib
import random
import struct
import tempfile
from collections.abc import Iterator
from fractions import Fraction

import av
from PIL import Image, ImageDraw, UnidentifiedImageError

__all__ = [
    "MediaProbeError",
    "probe",
    "render_audio",
    "render_image",
    "render_video",
    "video_encoder",
]

AUDIO_RATE = 48_000
# FFmpeg's native AAC encoder consumes 1024-sample frames.
_AUDIO_FRAME = 1024
_IMAGE_FORMATS = {"png": "PNG", "jpeg": "JPEG", "jpg": "JPEG", "webp": "WEBP"}
# Demuxers that will happily "decode" arbitrary text/binary as pictures; a hit on
# one of these means the input was not really media.
_BOGUS_FORMATS = {"tty", "bin", "adf", "idf", "xbin", "ansi", "bintext", "data"}
_BOGUS_CODECS = {"ansi", "bintext", "xbin", "idf"}


class MediaProbeError(ValueError):
    """Raised by :func:`probe` when a file is missing, empty or not decodable media."""


def video_encoder() -> str:
    """Return the FFmpeg encoder :func:`render_video` uses: ``libx264`` or ``mpeg4``."""
    return _pick_encoder()


def _pick_encoder() -> str:
    for name in ("libx264", "mpeg4"):
        with contextlib.suppress(av.codec.codec.UnknownCodecError):
            av.Codec(name, "w")
            return name
    raise RuntimeError("installed PyAV/FFmpeg has neither libx264 nor mpeg4 encoder")


@contextlib.contextmanager
def _atomic_target(path: pathlib.Path) -> Iterator[pathlib.Path]:
    """Yield a temp path next to ``path``; move it over ``path`` only on success."""
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp = pathlib.Path(tmp_name)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _seed_yuv(rng: random.Random) -> tuple[int, int, int]:
    # Keep values inside the BT.601 "video range" so players show what we meant.
    return rng.randint(40, 200), rng.randint(64, 192), rng.randint(64, 192)


def _check_positive_int(name: str, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def render_video(
    path: pathlib.Path,
    *,
    width: int,
    height: int,
    seconds: float,
    fps: int = 24,
    seed: int = 0,
    audio: bool = False,
) -> None:
    """Write an MP4 (H.264 or MPEG-4 part 2, yuv420p) of ``round(seconds * fps)`` frames.

    The picture is a solid seed-derived colour with a vertical bar sliding across
    it. ``audio=True`` adds a quiet stereo 48 kHz AAC sine tone of equal length.
    Raises ValueError for odd or non-positive sizes (yuv420p needs even ones).
    """
    _check_positive_int("width", width)
    _check_positive_int("height", height)
    _check_positive_int("fps", fps)
    if width % 2 or height % 2:
        raise ValueError(f"yuv420p video needs even width and height, got {width}x{height}")
    if not seconds > 0 or math.isinf(seconds):
        raise ValueError(f"seconds must be a positive finite number, got {seconds!r}")
    n_frames = round(seconds * fps)
    if n_frames < 1:
        raise ValueError(f"{seconds}s at {fps} fps is less than one frame")

    rng = random.Random(seed)
    encoder = _pick_encoder()
    time_base = Fraction(1, fps)
    # Encoding every frame of a 4K clip costs ~20 ms/frame even at ultrafast. Instead we
    # encode one cycle of the animation as a closed GOP (keyframe first, no B-frames)
    # and repeat its packets: every repeat starts with a keyframe and only references
    # itself, so the stream stays valid and each frame still decodes.
    cycle = min(fps, n_frames)

    # faststart puts the index first so HTTP clients can play while downloading.
    with (
        _atomic_target(path) as tmp,
        av.open(
            str(tmp),
            mode="w",
            format="mp4",
            options={"movflags": "faststart"},
        ) as out,
    ):
        vstream = out.add_stream(encoder, rate=fps)
        vstream.width = width
        vstream.height = height
        vstream.pix_fmt = "yuv420p"
        vstream.time_base = time_base
        ctx = vstream.codec_context
        ctx.time_base = time_base
        ctx.gop_size = cycle + 1
        ctx.max_b_frames = 0
        # Thread count changes x264's bitstream; pin it so bytes match on any machine.
        # One cycle is cheap enough to encode on a single thread.
        ctx.thread_count = 1
        if encoder == "libx264":
            # ultrafast + high CRF: the picture is flat, and speed is all that matters here.
            # scenecut=0 keeps the only keyframe at the start of the cycle.
            ctx.options = {
                "preset": "ultrafast",
                "crf": "35",
                "threads": "1",
                "x264-params": f"bframes=0:scenecut=0:keyint={cycle + 1}",
            }
        else:
            ctx.bit_rate = 200_000

        astream = None
        if audio:
            astream = out.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            astream.bit_rate = 64_000

        cycle_packets = _encode_cycle(vstream, cycle, rng)
        audio_packets: list[av.Packet] = []
        if astream is not None:
            audio_packets = _tone_packets(astream, n_frames / fps, rng)

        a_idx = 0
        for i in range(n_frames):
            # Interleave by timestamp so players need not seek back and forth in the file.
            while a_idx < len(audio_packets) and _packet_time(audio_packets[a_idx]) <= i / fps:
                out.mux(audio_packets[a_idx])
                a_idx += 1
            data, keyframe = cycle_packets[i % cycle]
            packet = av.Packet(data)
            packet.stream = vstream
            packet.time_base = time_base
            packet.pts = packet.dts = i
            packet.duration = 1
            packet.is_keyframe = keyframe
            out.mux(packet)
        for packet in audio_packets[a_idx:]:
            out.mux(packet)


def _packet_time(packet: av.Packet) -> float:
    return float(packet.pts * packet.time_base) if packet.pts is not None else 0.0


def _encode_cycle(
    stream: av.video.stream.VideoStream, count: int, rng: random.Random
) -> list[tuple[bytes, bool]]:
    """Encode ``count`` frames of a bar sweeping across a flat colour; return packet data."""
    width, height = stream.width, stream.height
    time_base = stream.codec_context.time_base
    bg_y, bg_u, bg_v = _seed_yuv(rng)
    bar_y = 235 if bg_y < 128 else 16
    frame = av.VideoFrame(width, height, "yuv420p")
    y_plane, u_plane, v_plane = frame.planes
    u_plane.update(bytes([bg_u]) * u_plane.buffer_size)
    v_plane.update(bytes([bg_v]) * v_plane.buffer_size)
    pad = y_plane.line_size - width
    bar_w = max(2, width // 32)
    travel = width - bar_w
    bg_byte, bar_byte = bytes([bg_y]), bytes([bar_y])

    packets: list[tuple[bytes, bool]] = []
    for i in range(count):
        x = travel * i // count
        row = bg_byte * x + bar_byte * bar_w + bg_byte * (travel - x) + b"\0" * pad
        # The encoder may still reference the previous picture; copy-on-write guards it.
        frame.make_writable()
        frame.planes[0].update(row * height)
        frame.pts = i
        frame.time_base = time_base
        packets.extend((bytes(p), p.is_keyframe) for p in stream.encode(frame))
    packets.extend((bytes(p), p.is_keyframe) for p in stream.encode(None))
    if len(packets) != count or not packets[0][1]:
        raise RuntimeError(f"encoder produced {len(packets)} packets for {count} frames")
    return packets


def _tone_frames(seconds: float, rng: random.Random) -> Iterator[av.AudioFrame]:
    """Yield fltp stereo frames of a quiet sine whose period divides the frame size."""
    # A period that divides 1024 means one precomputed buffer serves every frame.
    period = rng.choice((64, 128, 256))
    samples = [0.05 * math.sin(2 * math.pi * k / period) for k in range(_AUDIO_FRAME)]
    buf = struct.pack(f"<{_AUDIO_FRAME}f", *samples)
    total = round(seconds * AUDIO_RATE)
    pts = 0
    while pts < total:
        n = min(_AUDIO_FRAME, total - pts)
        frame = av.AudioFrame(format="fltp", layout="stereo", samples=n)
        for plane in frame.planes:
            # Planes may be padded beyond n samples; fill exactly their size.
            data = buf[: n * 4]
            plane.update(data + b"\0" * (plane.buffer_size - len(data)))
        frame.sample_rate = AUDIO_RATE
        frame.pts = pts
        frame.time_base = Fraction(1, AUDIO_RATE)
        pts += n
        yield frame


def _tone_packets(
    stream: av.audio.stream.AudioStream, seconds: float, rng: random.Random
) -> list[av.Packet]:
    packets = [p for frame in _tone_frames(seconds, rng) for p in stream.encode(frame)]
    packets.extend(stream.encode(None))
    return packets


def render_audio(path: pathlib.Path, *, seconds: float, seed: int = 0) -> None:
    """Write a quiet stereo 48 kHz sine tone of ``seconds`` length.

    The container follows the suffix of ``path``: ``.mp3`` gives MP3 (libmp3lame);
    anything else gives AAC in an M4A (MP4 audio) container.
    """
    if not seconds > 0 or math.isinf(seconds):
        raise ValueError(f"seconds must be a positive finite number, got {seconds!r}")
    rng = random.Random(seed)
    mp3 = pathlib.Path(path).suffix.lower() == ".mp3"
    codec, fmt = ("libmp3lame", "mp3") if mp3 else ("aac", "ipod")
    with _atomic_target(path) as tmp, av.open(str(tmp), mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=AUDIO_RATE, layout="stereo")
        stream.bit_rate = 96_000
        if mp3:
            # libmp3lame takes a different sample format and 1152-sample frames.
            _encode_tone_resampled(out, stream, seconds, rng)
        else:
            for packet in _tone_packets(stream, seconds, rng):
                out.mux(packet)


def _encode_tone_resampled(
    out: av.container.OutputContainer,
    stream: av.audio.stream.AudioStream,
    seconds: float,
    rng: random.Random,
) -> None:
    ctx = stream.codec_context
    fifo = av.AudioFifo()
    frame_size = ctx.frame_size or 1152
    resampler = av.AudioResampler(format=ctx.format, layout="stereo", rate=AUDIO_RATE)

    def drain(final: bool) -> None:
        while fifo.samples >= frame_size or (final and fifo.samples):
            chunk = fifo.read(min(frame_size, fifo.samples))
            for packet in stream.encode(chunk):
                out.mux(packet)

    for frame in _tone_frames(seconds, rng):
        for converted in resampler.resample(frame):
            fifo.write(converted)
        drain(final=False)
    for converted in resampler.resample(None):
        fifo.write(converted)
    drain(final=True)
    for packet in stream.encode(None):
        out.mux(packet)


def render_image(
    path: pathlib.Path, *, width: int, height: int, fmt: str = "png", seed: int = 0
) -> None:
    """Write a ``width`` x ``height`` RGB image in ``fmt`` (png, jpeg/jpg or webp)."""
    _check_positive_int("width", width)
    _check_positive_int("height", height)
    pil_format = _IMAGE_FORMATS.get(fmt.lower())
    if pil_format is None:
        raise ValueError(f"unsupported image format {fmt!r}; use png, jpeg or webp")
    rng = random.Random(seed)
    colour = tuple(rng.randrange(256) for _ in range(3))
    img = Image.new("RGB", (width, height), colour)
    draw = ImageDraw.Draw(img)
    for _ in range(4):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1 = min(width - 1, x0 + rng.randint(1, max(1, width // 3)))
        y1 = min(height - 1, y0 + rng.randint(1, max(1, height // 3)))
        draw.rectangle((x0, y0, x1, y1), fill=tuple(rng.randrange(256) for _ in range(3)))
    save_kwargs: dict[str, object] = {}
    if pil_format == "JPEG":
        save_kwargs = {"quality": 85}
    elif pil_format == "WEBP":
        save_kwargs = {"quality": 80, "method": 0}
    with _atomic_target(path) as tmp:
        img.save(tmp, format=pil_format, **save_kwargs)


def probe(path: pathlib.Path) -> dict:
    """Describe a media file.

    Returns ``{"kind", "format", "width", "height", "duration", "has_audio"}`` plus
    ``"fps"``, ``"video_codec"`` and ``"audio_codec"`` (None where not applicable).
    ``format`` is a short lowercase name such as ``mp4``, ``mov``, ``m4a``, ``mp3``,
    ``png``, ``jpeg`` or ``webp``. Raises :class:`MediaProbeError` for anything that
    is not readable media (missing, empty, truncated, text, ...).
    """
    path = pathlib.Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise MediaProbeError(f"cannot read {path}: {exc}") from exc
    if size == 0:
        raise MediaProbeError(f"{path} is empty")
    try:
        info = _probe_image(path)
        return info if info is not None else _probe_av(path)
    except MediaProbeError:
        raise
    except Exception as exc:  # FFmpeg and Pillow fail in many different ways on junk
        raise MediaProbeError(f"{path} is not decodable media: {exc}") from exc


def _probe_image(path: pathlib.Path) -> dict | None:
    """Probe with Pillow; None if Pillow does not recognise the file as a still image."""
    try:
        img = Image.open(path)
    except UnidentifiedImageError:
        return None
    with img:
        # Pillow only sniffs MPEG video headers; leave real video to FFmpeg.
        if img.format in (None, "MPEG"):
            return None
        # MPO is the multi-picture JPEG variant phones write; callers care it is JPEG.
        fmt = "jpeg" if img.format == "MPO" else img.format.lower()
        width, height = img.size
        img.verify()
    return {
        "kind": "image",
        "format": fmt,
        "width": width,
        "height": height,
        "duration": None,
        "has_audio": False,
        "fps": None,
        "video_codec": None,
        "audio_codec": None,
    }


def _short_format(container: av.container.InputContainer) -> str:
    names = container.format.name.split(",")
    if "mp4" in names or "mov" in names:
        brand = str(container.metadata.get("major_brand", "")).strip().lower()
        if brand == "qt":
            return "mov"
        if brand in {"m4a", "m4b"}:
            return "m4a"
        return "mp4"
    return names[0]


def _probe_av(path: pathlib.Path) -> dict:
    with av.open(str(path), mode="r") as container:
        fmt = _short_format(container)
        if fmt in _BOGUS_FORMATS:
            raise MediaProbeError(f"{path} is not media (detected as {fmt!r})")
        video = next(
            (
                s
                for s in container.streams.video
                if not s.disposition & av.stream.Disposition.attached_pic
                and s.codec_context.name not in _BOGUS_CODECS
            ),
            None,
        )
        audio = next(iter(container.streams.audio), None)
        if video is None and audio is None:
            raise MediaProbeError(f"{path} has no audio or video stream")
        if video is not None and (not video.codec_context.width or not video.codec_context.height):
            raise MediaProbeError(f"{path} has a video stream without dimensions")

        duration = None
        if container.duration is not None and container.duration > 0:
            duration = container.duration / av.time_base
        else:
            stream = video or audio
            if stream.duration and stream.time_base:
                duration = float(stream.duration * stream.time_base)

        fps = None
        if video is not None and video.average_rate:
            fps = float(video.average_rate)
        return {
            "kind": "video" if video is not None else "audio",
            "format": fmt,
            "width": video.codec_context.width if video is not None else None,
            "height": video.codec_context.height if video is not None else None,
            "duration": duration,
            "has_audio": audio is not None,
            "fps": fps,
            "video_codec": video.codec_context.codec.canonical_name if video is not None else None,
            "audio_codec": audio.codec_context.codec.canonical_name if audio is not None else None,
        }
