"""Quality check of vehicle intake shots: size, sharpness, exposure and repeated shots.

The advisor photographs the car by a shot list; every shot passes through
``check_shot`` right after upload, and a failed check asks for a retake with a reason
the advisor can act on.

All figures are measured on a greyscale *working image* whose long side is
``WORKING_LONG_SIDE`` pixels, whatever the resolution of the phone. Sharpness in
particular (the variance of the Laplacian) depends on the pixel scale: measured on the
original, the test scene scores half as much at 4000 × 3000 as at 2000 × 1500, and a
real lens, which spreads an edge over more pixels of a denser sensor, loses more still.
A JPEG is decoded straight into that working scale and into greyscale by libjpeg (DCT
scaling), so a 12 MP photo never exists in memory at full size.

Pillow plus Django's lazy translation, importable without Django settings: workers,
benchmarks and tests use it directly. A report's problems are translated when they are
read, in the language of whoever reads them. Decoding uses
``autoservice.images`` (what counts as a JPEG, which way is up, how odd PNG modes are
read), so this check and the renditions never disagree.
"""

from __future__ import annotations

import pathlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.functional import Promise
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageFilter, ImageMath

from autoservice.images import (
    ALLOWED_FORMATS,
    displayed_size,
    exif_orientation,
    fit_long_side,
    is_jpeg,
    resizable,
    upright,
)

__all__ = [
    "OVEREXPOSED_LEVEL",
    "UNDEREXPOSED_LEVEL",
    "WORKING_LONG_SIDE",
    "QualityReport",
    "Thresholds",
    "check_shot",
    "check_shot_timed",
    "hamming",
    "phash",
]

# 1000 rather than a round 1024: 12 MP phone sensors (4000×3000, 4032×3024, 4080×3060)
# and 48–50 MP ones (8000×6000, 8160×6120) then reach it by libjpeg's 1/4 or 1/8 DCT
# scaling alone, with no resampling pass at all.
WORKING_LONG_SIDE = 1000

# A decode this much larger than the working size is used as it is. Resampling 1008 px
# down to 1000 px would interpolate every pixel between two neighbours and cost more
# sharpness than the 0.8 % difference in scale ever could.
_WORKING_SIZE_TOLERANCE = 1.025

# Greyscale levels counted as clipped highlights and crushed shadows.
OVEREXPOSED_LEVEL = 250
UNDEREXPOSED_LEVEL = 5

# 4-neighbour Laplacian. Computed in 32-bit mode "I" (8-bit output would clip every
# strong edge); the offset keeps negative responses from being clipped at zero.
_LAPLACIAN_OFFSET = 2048
_LAPLACIAN = ImageFilter.Kernel(
    (3, 3), [0, 1, 0, 1, -4, 1, 0, 1, 0], scale=1, offset=_LAPLACIAN_OFFSET
)

# Sharpness is pooled over the most detailed tenth of 32 × 32 tiles of the working image
# rather than the whole frame. Camera shake and missed focus soften every tile, but a
# sharp close-up of a scratch on a plain door has detail in a few tiles only: over the
# whole frame it scores like a badly blurred busy scene (13 against 9 for a blur of
# σ = 2 working pixels), so no whole-frame threshold could pass the one and fail the
# other. Pooled over the sharpest tiles they score 132 against 46.
# _SHARPEST_SHARE = 1.0 gives back the whole-frame variance.
_TILE = 32
_SHARPEST_SHARE = 0.10

_HASH_RE = re.compile(r"[0-9a-fA-F]{16}")

TOO_SMALL = "too_small"
BLURRED = "blurred"
DARK = "dark"
OVEREXPOSED = "overexposed"
DUPLICATE = "duplicate"

_MESSAGES = {
    BLURRED: _(
        "Снимок размыт: держите телефон неподвижно и коснитесь экрана, чтобы навести резкость."
    ),
    DARK: _("Слишком темно: включите свет или фонарик."),
    OVEREXPOSED: _("Пересвечено: уйдите от прямого солнца или вспышки."),
    DUPLICATE: _(
        "Этот кадр почти совпадает с уже сделанным в этой приёмке: "
        "снимите ракурс, который указан в списке."
    ),
}


@dataclass(frozen=True)
class Thresholds:
    """Where a shot stops being usable, calibrated on generated scenes (tests/intake).

    ``min_sharpness`` is in the units of ``_sharpness``: grey levels squared, on the
    working image. Measured: a busy sharp scene 4 400–6 500 at any resolution from
    1280 × 720 to 12 MP; sharp but plain scenes (a scratch on a bare panel, large smooth
    body panels, with or without sensor noise) 71–132; the busy scene under a Gaussian
    blur of σ = 2 working pixels (σ = 8 px on a 12 MP photo) 41–46, of σ = 3 about 12.
    The bar sits between the plain sharp shots and the σ = 2 blur, closer to the blur:
    a needless retake costs the advisor more than a slightly soft photo costs the shop.
    """

    # The landscape minimum: the long side is held against min_width and the short side
    # against min_height, so portrait 720 × 1280 passes as well.
    min_width: int = 1280
    min_height: int = 720
    min_sharpness: float = 50.0
    # Mean grey level (0–255) below which the shot is too dark. Auto-exposure brings an
    # ordinary scene to roughly 100–130; below 40 the phone had no light to work with.
    min_brightness: float = 40.0
    # Share of pixels at OVEREXPOSED_LEVEL and above. Some sky or a glare spot on the
    # paint is normal; a quarter of the frame burnt out hides panels.
    max_overexposed_share: float = 0.25
    # Hamming distance of the 64-bit hashes up to which two shots count as the same
    # shot. Measured: re-encoding at another quality and +10 % exposure 0 bits, framing
    # moved by 2 % 3 bits, by 5 % 12 bits; different scenes and mirror images 28–40.
    max_duplicate_distance: int = 6


@dataclass(frozen=True)
class QualityReport:
    ok: bool
    width: int  # as displayed, after the EXIF orientation; of the original file
    height: int
    sharpness: float  # variance of the Laplacian, see _sharpness and Thresholds
    brightness: float  # mean grey level, 0–255
    overexposed_share: float  # share of pixels >= OVEREXPOSED_LEVEL
    underexposed_share: float  # share of pixels <= UNDEREXPOSED_LEVEL
    phash: str  # 16 hex digits, see phash()
    codes: tuple[str, ...]
    # One per code, in the same order; translated when ``problems`` is read.
    messages: tuple[str | Promise, ...] = field(repr=False)

    @property
    def problems(self) -> tuple[str, ...]:
        """What to do about each code, in the active language (reading it needs Django's
        settings; the codes do not)."""
        return tuple(str(message) for message in self.messages)


def check_shot(
    path: pathlib.Path, *, others: Iterable[str] = (), thresholds: Thresholds = Thresholds()
) -> QualityReport:
    """Check one stored shot; ``others`` are the hashes of the record's other shots.

    The file is expected to have passed ``autoservice.images.inspect_image``; Pillow's
    errors on a broken file are not translated here. When a shot is retaken, leave the
    hash of the shot it replaces out of ``others``.
    """
    return check_shot_timed(path, others=others, thresholds=thresholds)[0]


def check_shot_timed(
    path: pathlib.Path, *, others: Iterable[str] = (), thresholds: Thresholds = Thresholds()
) -> tuple[QualityReport, dict[str, float]]:
    """``check_shot`` plus where the time went: ``decode_ms``, ``analysis_ms``, ``total_ms``.

    Decoding is opening the file up to greyscale pixels at (about) the working scale;
    analysis is everything after, including the resampling to the working size.
    """
    started = time.perf_counter()
    grey, draft_box, full_size, orientation = _decode_grey(path)
    decoded = time.perf_counter()
    report = _analyse(grey, draft_box, full_size, orientation, others, thresholds)
    finished = time.perf_counter()
    timings = {
        "decode_ms": (decoded - started) * 1000,
        "analysis_ms": (finished - decoded) * 1000,
        "total_ms": (finished - started) * 1000,
    }
    return report, timings


def phash(image: Image.Image) -> str:
    """64-bit difference hash ("dHash") of an upright image, as 16 hex digits.

    The image is averaged down to 9 × 8 grey cells and each bit says whether a cell is
    darker than its right neighbour. Chosen over an average hash because it encodes the
    layout of edges rather than of bright and dark areas, so it tells two shots of the
    same car apart better; and being made of comparisons of neighbours only, it does not
    move with exposure or white balance, nor with JPEG quality (the cells average away
    block artefacts and noise). A DCT hash would add little at this size and is costly
    without numpy. Mirrored shots (left and right side of a car) differ in most bits.
    """
    grey = image if image.mode == "L" else resizable(image).convert("L")
    cells = grey.resize((9, 8), Image.Resampling.BOX).tobytes()
    value = 0
    for row in range(8):
        for col in range(8):
            left = cells[row * 9 + col]
            right = cells[row * 9 + col + 1]
            value = (value << 1) | (left < right)
    return f"{value:016x}"


def hamming(a: str, b: str) -> int:
    """Number of differing bits between two ``phash`` values."""
    for value in (a, b):
        if not _HASH_RE.fullmatch(value):
            raise ValueError(f"not a 64-bit hex hash: {value!r}")
    return (int(a, 16) ^ int(b, 16)).bit_count()


# --- decoding ---------------------------------------------------------------------------


def _decode_grey(
    path: pathlib.Path,
) -> tuple[Image.Image, tuple[float, float, float, float] | None, tuple[int, int], int]:
    """Greyscale pixels at about the working scale, plus what the analysis needs to know.

    Returns the image, the exact source area of a JPEG draft (its last row and column may
    be partly padding), the original stored size and the EXIF orientation.
    """
    with Image.open(path, formats=ALLOWED_FORMATS) as im:
        full_size = im.size
        draft_box = None
        if is_jpeg(im):
            # libjpeg scales by 1/2, 1/4 or 1/8 to the smallest size still at least the
            # working size, and outputs luma only: the chroma planes are entropy-decoded
            # (they must be, to reach the next bytes) but never transformed or upsampled.
            drafted = im.draft("L", fit_long_side(full_size, WORKING_LONG_SIDE))
            if drafted is not None:
                draft_box = drafted[1]
        im.load()
        orientation = exif_orientation(im)
        grey = im if im.mode == "L" else resizable(im).convert("L")
        if grey is im:
            grey = im.copy()  # outlives the file
    return grey, draft_box, full_size, orientation


# --- analysis ---------------------------------------------------------------------------


def _analyse(
    grey: Image.Image,
    draft_box: tuple[float, float, float, float] | None,
    full_size: tuple[int, int],
    orientation: int,
    others: Iterable[str],
    thresholds: Thresholds,
) -> QualityReport:
    work = _to_working_size(grey, draft_box, full_size)
    sharpness = _sharpness(work)
    brightness, over_share, under_share = _exposure(work)

    # Sharpness and exposure do not care which way is up; the hash does, so that a shot
    # saved sideways with an orientation tag matches the same shot saved upright.
    shot_hash = phash(upright(work, orientation))

    width, height = displayed_size(full_size, orientation)

    codes: list[str] = []
    problems: list[str | Promise] = []

    def fail(code: str, message: str | Promise) -> None:
        codes.append(code)
        problems.append(message)

    long_side, short_side = max(width, height), min(width, height)
    if long_side < thresholds.min_width or short_side < thresholds.min_height:
        fail(
            TOO_SMALL,
            format_lazy(
                _(
                    "Слишком маленькое фото ({width} × {height}): нужно не меньше "
                    "{min_width} × {min_height}. Снимайте основной камерой телефона, "
                    "без обрезки и без пересылки через мессенджер."
                ),
                width=width,
                height=height,
                min_width=thresholds.min_width,
                min_height=thresholds.min_height,
            ),
        )
    dark = brightness < thresholds.min_brightness
    overexposed = over_share > thresholds.max_overexposed_share
    # A dark or burnt-out frame has lost its detail to exposure, so it also measures as
    # blurred; asking for both would send the advisor after the wrong fix. The retake
    # with proper light is checked for sharpness again.
    if sharpness < thresholds.min_sharpness and not (dark or overexposed):
        fail(BLURRED, _MESSAGES[BLURRED])
    if dark:
        fail(DARK, _MESSAGES[DARK])
    if overexposed:
        fail(OVEREXPOSED, _MESSAGES[OVEREXPOSED])
    if any(
        hamming(shot_hash, other) <= thresholds.max_duplicate_distance
        for other in others
        if other  # a shot stored before hashing existed has an empty hash
    ):
        fail(DUPLICATE, _MESSAGES[DUPLICATE])

    return QualityReport(
        ok=not codes,
        width=width,
        height=height,
        sharpness=sharpness,
        brightness=brightness,
        overexposed_share=over_share,
        underexposed_share=under_share,
        phash=shot_hash,
        codes=tuple(codes),
        messages=tuple(problems),
    )


def _to_working_size(
    grey: Image.Image,
    draft_box: tuple[float, float, float, float] | None,
    full_size: tuple[int, int],
) -> Image.Image:
    target = fit_long_side(full_size, WORKING_LONG_SIDE)
    if max(grey.size) <= max(target) * _WORKING_SIZE_TOLERANCE:
        # Already at the working scale (a JPEG draft), or smaller than it: a small photo
        # is measured as it is, since upscaling would invent blur. It fails on size anyway.
        return grey
    # Lanczos keeps the detail up to the new Nyquist limit, which is what the Laplacian
    # measures; the reducing gap lets Pillow box-reduce a full-size PNG or HEIC first.
    return grey.resize(target, Image.Resampling.LANCZOS, box=draft_box, reducing_gap=3.0)


def _sharpness(work: Image.Image) -> float:
    """Variance of the Laplacian in the most detailed ``_SHARPEST_SHARE`` of the frame."""
    width, height = work.size
    if width < 3 or height < 3:
        return 0.0
    # The filter copies the one-pixel border unfiltered, so only the interior is used.
    lap = work.convert("I").filter(_LAPLACIAN).crop((1, 1, width - 1, height - 1))
    # point() with a linear function runs as one C pass; ImageMath with a constant
    # operand would first build a whole image of that constant.
    centred = lap.point(lambda value: value - _LAPLACIAN_OFFSET).convert("F")
    squared = ImageMath.lambda_eval(lambda a: a["a"] * a["a"], a=centred)
    # A box resize averages each tile exactly (Pillow accumulates in double precision).
    # The Laplacian of a tile sums to almost nothing (the sum telescopes to the tile's
    # border), so a tile's mean square is, near enough, its variance.
    tiles = squared.resize(
        (max(1, round(lap.width / _TILE)), max(1, round(lap.height / _TILE))),
        Image.Resampling.BOX,
    )
    ranked = sorted(tiles.get_flattened_data(), reverse=True)
    sharpest = ranked[: max(1, round(len(ranked) * _SHARPEST_SHARE))]
    return sum(sharpest) / len(sharpest)


def _exposure(work: Image.Image) -> tuple[float, float, float]:
    """Mean grey level and the shares of clipped highlights and crushed shadows."""
    histogram = work.histogram()
    count = work.width * work.height
    mean = sum(level * n for level, n in enumerate(histogram)) / count
    over = sum(histogram[OVEREXPOSED_LEVEL:]) / count
    under = sum(histogram[: UNDEREXPOSED_LEVEL + 1]) / count
    return mean, over, under
