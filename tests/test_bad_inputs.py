"""The bad-input corpus (tests/data/bad/, written by make_corpus.py) through the real CLI.

Broken label and prediction files: ``labelfix import`` exits 2 with a report that names the file,
the record and the reason, and writes no project. Odd but acceptable files import (exit 0),
with a warning where something deserves one. Missing, corrupt and odd images only ever give
warnings; :func:`labelfix.core.images.load_image` decodes each one as COCO does, never raising.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import PIL.Image
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pycocotools import mask as mask_utils

from labelfix.core import edits, geometry, opencv
from labelfix.core.cli import run
from labelfix.core.coco import check_images, read_ground_truth
from labelfix.core.images import (
    MAX_PIXELS,
    _jpeg_truncated,
    exif_orientation,
    header_size,
    load_image,
)
from labelfix.core.store import Store

CORPUS = Path(__file__).resolve().parent / "data" / "bad"
IMAGES = CORPUS / "images"
GOOD_GT = CORPUS / "good_gt.json"

# (label file, exit code, substrings of stderr besides the file name: record path, reason)
LABEL_CASES = [
    ("gt_truncated.json", 2, ["(file)", "not valid JSON", "truncated?"]),
    ("gt_not_utf8.json", 2, ["(file)", "not UTF-8 text: byte 0xe9 at line 14"]),
    ("gt_empty.json", 2, ["(file)", "the file is empty"]),
    ("gt_deep_nesting.json", 2, ["(file)", "nested too deeply"]),
    ("gt_top_level_array.json", 2, ["top level", "must be a JSON object"]),
    ("gt_missing_annotations.json", 2, ["top level", 'missing required key "annotations"']),
    ("gt_string_image_id.json", 2, ["images[0].id", "id must be an integer, got a string '1'"]),
    ("gt_bool_category_id.json", 2, ["categories[1].id", "got a boolean True"]),
    ("gt_id_too_big.json", 2, ["annotations[2].id", "does not fit in a 64-bit integer"]),
    ("gt_bbox_object.json", 2, ["annotations[1] (id 2).bbox", "got an object"]),
    ("gt_bbox_three_numbers.json", 2, ["annotations[1] (id 2).bbox", "4 finite numbers"]),
    ("gt_bbox_negative_width.json", 2, ["annotations[1] (id 2).bbox", "must not be negative"]),
    ("gt_nan_bbox.json", 2, ["annotations[1] (id 2).bbox", "[20, 5, nan, 10]"]),
    ("gt_infinity_area.json", 2, ["annotations[1] (id 2).area", "finite number >= 0"]),
    ("gt_1e308_bbox.json", 2, ["annotations[1] (id 2).bbox", "overflows to infinity"]),
    (
        "gt_1e308_polygon.json",
        2,
        ["annotations[0] (id 1).segmentation[0]", "1e+308 is far outside the 40x30 image"],
    ),
    ("gt_string_width.json", 2, ["images[1] (id 2).width", "got a string '40'"]),
    ("gt_zero_height.json", 2, ["images[1] (id 2).height", "must be a positive integer"]),
    ("gt_iscrowd_2.json", 2, ["annotations[1] (id 2).iscrowd", "must be 0 or 1"]),
    ("gt_category_name_null.json", 2, ["categories[0] (id 1).name", "got null"]),
    (
        "gt_duplicate_annotation_id.json",
        2,
        ["annotations[2] (id 1).id", "duplicate id 1 (first used by annotations[0])"],
    ),
    ("gt_duplicate_image_id.json", 2, ["images[1] (id 1).id", "duplicate id 1"]),
    ("gt_dangling_image_id.json", 2, ["annotations[2] (id 3).image_id", "unknown image id 99"]),
    (
        "gt_dangling_category_id.json",
        2,
        ["annotations[1] (id 2).category_id", "unknown category id 5"],
    ),
    (
        "gt_polygon_two_points.json",
        2,
        ["annotations[0] (id 1).segmentation[0]", "needs at least 3 points"],
    ),
    (
        "gt_polygon_odd_count.json",
        2,
        ["annotations[0] (id 1).segmentation[0]", "odd number of coordinates (7)"],
    ),
    ("gt_polygon_flat.json", 2, ["annotations[0] (id 1).segmentation", "a list of lists"]),
    ("gt_polygon_strings.json", 2, ["segmentation[0]", "must be finite numbers, got a string"]),
    (
        "gt_rle_wrong_size.json",
        2,
        ["annotations[3] (id 9).segmentation.size", "RLE size [31, 40] differs"],
    ),
    (
        "gt_rle_counts_short.json",
        2,
        ["annotations[3] (id 9).segmentation.counts", "cover 280 pixels but size 30x40 has 1200"],
    ),
    ("gt_rle_string_malformed.json", 2, ["segmentation.counts", "string is malformed"]),
    ("gt_rle_no_counts.json", 2, ["segmentation.counts", "missing required field"]),
    # accepted, with a warning or without
    ("gt_utf8_bom.json", 0, []),
    ("gt_rle_ok.json", 0, []),
    ("gt_self_intersecting_polygon.json", 0, []),
    ("gt_zero_area_box.json", 0, ["annotations[1] (id 2).bbox", "zero-area box (width 0"]),
    (
        "gt_box_outside_image.json",
        0,
        ["annotations[1] (id 2).bbox", "extends more than 1 px outside the 40x30 image"],
    ),
]

# (prediction file read against good_gt.json, exit code, substrings besides the file name)
PREDICTION_CASES = [
    ("pred_ok.json", 0, []),
    ("pred_truncated.json", 2, ["(file)", "truncated?"]),
    ("pred_is_ground_truth.json", 2, ["top level", "a ground-truth file?"]),
    ("pred_score_string.json", 2, ["[0] (prediction 1).score", "got a string '0.9'"]),
    ("pred_score_above_one.json", 2, ["[1] (prediction 2).score", "from 0 to 1, got a number 1.5"]),
    ("pred_unknown_image.json", 2, ["[1] (prediction 2).image_id", "unknown image id 77"]),
    ("pred_unknown_category.json", 2, ["[0] (prediction 1).category_id", "unknown category id 3"]),
    ("pred_no_geometry.json", 2, ["[1] (prediction 2)", "neither a bbox nor a segmentation"]),
    ("pred_nan_bbox.json", 2, ["[0] (prediction 1).bbox", "4 finite numbers"]),
    ("pred_rle_wrong_size.json", 2, ["[0] (prediction 1).segmentation.size", "[10, 10] differs"]),
]

# image file -> (record suffix, warning at import) for the images that get one; the others
# (ok, alpha, 16-bit, palette, gray, CMYK, names with spaces and non-ASCII) import without a
# warning. truncated.jpg has an intact header; its missing end marker tells at import.
IMAGE_WARNINGS = {
    "truncated.jpg": ("", "the JPEG data ends early (truncated file?)"),
    "empty.jpg": (".file_name", "image file is empty (0 bytes)"),
    "corrupt.jpg": (".file_name", "image file cannot be read"),
    "not_an_image.png": (".file_name", "image file cannot be read"),
    "exif_rotated.jpg": ("", "EXIF orientation tag (6: rotated 90 degrees clockwise"),
    "exif_rotated_swapped.jpg": (
        "",
        "image file is 40x30 pixels but the record says width 30, height 40; the file has an "
        "EXIF orientation tag (6",
    ),
    "wrong_size.jpg": ("", "image file is 40x30 pixels but the record says width 50, height 30"),
    "bomb.png": (
        ".file_name",
        "2,500,000,000 pixels, too many to open safely (decompression bomb?)",
    ),
    "bomb.jpg": (
        ".file_name",
        "2,500,000,000 pixels, too many to open safely (decompression bomb?)",
    ),
    "missing.jpg": (".file_name", "image file not found"),
}

# image file -> (decoded?, substring of load_image's warning or None)
LOAD_CASES = {
    "ok.jpg": (True, None),
    "ok.png": (True, None),
    "with space.jpg": (True, None),
    "ünïcødé 名前.jpg": (True, None),
    "wrong_size.jpg": (True, None),
    "alpha.png": (True, None),
    "gray16.png": (True, None),
    "rgb16.png": (True, None),
    "palette.png": (True, None),
    "gray.jpg": (True, None),
    "cmyk.jpg": (True, None),
    "exif_rotated.jpg": (True, "EXIF orientation tag (6"),
    "exif_rotated_swapped.jpg": (True, "used as stored, not rotated"),
    "empty.jpg": (False, "image file is empty (0 bytes)"),
    "corrupt.jpg": (False, "image file cannot be read"),
    "not_an_image.png": (False, "image file cannot be read"),
    "truncated.jpg": (False, "corrupt or truncated"),
    "bomb.png": (False, "decompression bomb?"),
    "bomb.jpg": (False, "decompression bomb?"),
}


def labelfix(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """Run the headless CLI in this process; (exit code, stderr)."""
    code = run(list(args))
    return code, capsys.readouterr().err


def check_report(code: int, err: str, path: Path, want_code: int, want: list[str]) -> None:
    assert code == want_code, err
    assert "Traceback" not in err
    if want_code == 2:
        assert err.startswith(f"{path}: "), err  # the report names the file first
    for text in want:
        assert text in err, err
    if want_code == 0 and want:
        assert f"warning: {path}: {want[0]}: " in err, err


# ----------------------------------------------------------------------------- labels


def test_the_corpus_is_small_and_complete() -> None:
    files = [p for p in CORPUS.rglob("*") if p.is_file() and p.suffix != ".pyc"]
    assert sum(p.stat().st_size for p in files) < 200_000
    cases = [c[0] for c in LABEL_CASES + PREDICTION_CASES] + list(LOAD_CASES)
    assert len(cases) >= 30
    on_disk = {p.name for p in CORPUS.glob("*.json")} | {p.name for p in IMAGES.iterdir()}
    assert set(cases) <= on_disk
    assert on_disk - set(cases) == {"good_gt.json", "images_gt.json", "images_pred.json"}


@pytest.mark.parametrize(("name", "code", "want"), LABEL_CASES, ids=[c[0] for c in LABEL_CASES])
def test_label_file(
    name: str, code: int, want: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = CORPUS / name
    out = tmp_path / "p.labelfix"
    got, err = labelfix(capsys, "import", "--gt", str(path), "-o", str(out))
    check_report(got, err, path, code, want)
    assert out.exists() == (code == 0)
    assert not out.with_name(out.name + ".partial").exists()


@pytest.mark.parametrize(
    ("name", "code", "want"), PREDICTION_CASES, ids=[c[0] for c in PREDICTION_CASES]
)
def test_prediction_file(
    name: str, code: int, want: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = CORPUS / name
    out = tmp_path / "p.labelfix"
    args = ("import", "--gt", str(GOOD_GT), "--predictions", str(path), "-o", str(out))
    got, err = labelfix(capsys, *args)
    check_report(got, err, path, code, want)
    assert out.exists() == (code == 0)


def test_a_broken_file_in_a_real_subprocess_has_no_traceback(tmp_path: Path) -> None:
    path = CORPUS / "gt_not_utf8.json"
    r = subprocess.run(
        [sys.executable, "-m", "labelfix", "import", "--gt", str(path)]
        + ["-o", str(tmp_path / "x.labelfix")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2, r.stderr
    assert r.stderr.startswith(f"{path}: 1 problem(s) found\n  (file): not UTF-8 text")
    assert "Traceback" not in r.stderr


def test_self_intersecting_polygon_is_accepted_with_the_pycocotools_area(tmp_path: Path) -> None:
    """A bow tie is accepted, as pycocotools accepts it; its area is the rasterised one."""
    gt = read_ground_truth(CORPUS / "gt_self_intersecting_polygon.json")
    polygon = gt.annotations[0]["segmentation"]
    assert polygon == [[2, 3, 12, 11, 12, 3, 2, 11]]
    rle = mask_utils.merge(mask_utils.frPyObjects(polygon, 30, 40))
    coco_area = float(mask_utils.area(rle))
    assert coco_area > 30  # two triangles; the shoelace formula would give 0 (they cancel)
    assert geometry.segmentation_area(polygon, 30, 40, [2, 3, 10, 8]) == coco_area
    with Store.create(tmp_path / "p.labelfix") as store:
        store.import_ground_truth(gt, None)
        edit = edits.SetGeometry(2, segmentation=polygon)
        edit.apply(store)
        label = store.annotation(2)
        assert label["area"] == coco_area and label["bbox"] == [2, 3, 10, 8]


# ----------------------------------------------------------------------------- images


@pytest.fixture(scope="module")
def image_import(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """Import the image corpus once with the real CLI in a subprocess."""
    out = tmp_path_factory.mktemp("images") / "images.labelfix"
    r = subprocess.run(
        [sys.executable, "-m", "labelfix", "import", "--gt", str(CORPUS / "images_gt.json")]
        + ["--images", str(IMAGES), "-o", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return r.returncode, r.stderr, out


def test_odd_images_import_with_warnings(image_import: tuple[int, str, Path]) -> None:
    code, err, out = image_import
    assert code == 0, err
    assert "Traceback" not in err
    assert f"{len(IMAGE_WARNINGS)} warning(s):" in err
    with Store.open(out, readonly=True) as store:
        assert store.counts()["images"] == len(LOAD_CASES) + 1
        assert len(store.get_meta("warnings")) == len(IMAGE_WARNINGS)


@pytest.mark.parametrize("name", sorted(set(LOAD_CASES) | {"missing.jpg"}))
def test_image_warning_at_import(name: str, image_import: tuple[int, str, Path]) -> None:
    _, err, _ = image_import
    images = json.loads((CORPUS / "images_gt.json").read_text(encoding="utf-8"))["images"]
    index = next(i for i, im in enumerate(images) if im["file_name"] == name)
    record = f"images[{index}] (id {index + 1})"
    lines = [line for line in err.splitlines() if f": {record}" in line]
    if name not in IMAGE_WARNINGS:
        assert lines == []
        return
    suffix, reason = IMAGE_WARNINGS[name]
    assert len(lines) == 1, err  # one warning per image at most
    assert f"images_gt.json: {record}{suffix}: " in lines[0]
    assert reason in lines[0]
    assert lines[0].endswith(str(IMAGES / name))


@pytest.fixture(params=["opencv", "pillow"])
def decoder(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Decode with OpenCV (the pip-installed app) and with Pillow alone (the app bundle)."""
    if request.param == "pillow":
        monkeypatch.setattr(opencv, "module", lambda: None)
    return str(request.param)


@pytest.mark.parametrize("name", sorted(LOAD_CASES))
def test_load_image(name: str, decoder: str) -> None:
    decoded, want = LOAD_CASES[name]
    pixels, warning = load_image(IMAGES / name)
    if decoded:
        assert pixels is not None and pixels.dtype == np.uint8
        assert pixels.shape == (30, 40, 3)  # raw pixel orientation, never EXIF-rotated
        assert pixels.flags.c_contiguous
    else:
        assert pixels is None
    if want is None:
        assert warning is None
    else:
        assert warning is not None and want in warning and warning.endswith(name)


def test_load_image_pixels_match_the_reference(decoder: str) -> None:
    """Every conversion gives the picture ok.png holds (JPEG and 8-bit rounding aside)."""
    reference, _ = load_image(IMAGES / "ok.png")
    assert reference is not None
    assert reference[4, 4].tolist() == [255, 255, 255]  # the bright square, top left
    assert reference[20, 30].tolist() == [191, 170, 128]  # RGB order, not BGR
    for name, tolerance in [
        ("alpha.png", 0),
        ("rgb16.png", 0),
        ("palette.png", 40),
        ("ok.jpg", 12),
        ("exif_rotated.jpg", 12),
        ("cmyk.jpg", 16),
    ]:
        pixels, _ = load_image(IMAGES / name)
        assert pixels is not None
        diff = np.abs(pixels.astype(int) - reference.astype(int)).mean()
        assert diff <= tolerance, (name, diff)
    gray, _ = load_image(IMAGES / "gray.jpg")
    assert gray is not None and (gray[..., 0] == gray[..., 2]).all()
    gray16, _ = load_image(IMAGES / "gray16.png")
    assert gray16 is not None and gray16[0, 0, 0] == 0 and gray16[0, 39, 0] == 249


def test_pillow_decodes_what_opencv_decodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without OpenCV (the app bundle) every image gives the same outcome and the same pixels."""
    with_opencv = {name: load_image(IMAGES / name) for name in LOAD_CASES}
    monkeypatch.setattr(opencv, "module", lambda: None)
    for name, (pixels, warning) in with_opencv.items():
        got, got_warning = load_image(IMAGES / name)
        assert (got is None) == (pixels is None), name
        assert got_warning == warning, name
        if pixels is not None and got is not None:
            # libjpeg-turbo in both; only the CMYK conversion rounds differently
            limit = 2 if name == "cmyk.jpg" else 0
            assert np.abs(got.astype(int) - pixels.astype(int)).max() <= limit, name


def test_load_image_never_raises_on_odd_paths(tmp_path: Path, decoder: str) -> None:
    assert load_image(tmp_path / "nowhere.jpg") == (
        None,
        f"image file not found: {tmp_path / 'nowhere.jpg'}",
    )
    pixels, warning = load_image(tmp_path)
    assert pixels is None and warning is not None and "folder" in warning


def test_bombs_are_refused_from_the_header(tmp_path: Path) -> None:
    start = time.perf_counter()
    for name in ("bomb.png", "bomb.jpg"):
        assert (IMAGES / name).stat().st_size < 1000
        pixels, warning = load_image(IMAGES / name)
        assert pixels is None and warning is not None
    images = [{"id": 1, "file_name": "bomb.png", "width": 50_000, "height": 50_000}]
    [problem] = check_images(images, IMAGES, "gt.json")
    assert problem.severity == "warning" and "decompression bomb?" in problem.reason
    assert time.perf_counter() - start < 2.0
    # under PIL's own limit but over LabelFix's: refused too, before decoding
    spec = importlib.util.spec_from_file_location("make_corpus", CORPUS / "make_corpus.py")
    assert spec is not None and spec.loader is not None
    make_corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_corpus)
    side = int(MAX_PIXELS**0.5) + 1
    big = tmp_path / "big.png"
    big.write_bytes(make_corpus.bomb_png(side, side))
    limit = PIL.Image.MAX_IMAGE_PIXELS
    PIL.Image.MAX_IMAGE_PIXELS = None  # e.g. an app that turned PIL's check off
    try:
        pixels, warning = load_image(big)
    finally:
        PIL.Image.MAX_IMAGE_PIXELS = limit
    assert pixels is None and warning is not None
    assert f"{side}x{side} pixels, more than the 200 megapixels" in warning


@pytest.mark.filterwarnings("ignore:Corrupt EXIF data")
@settings(max_examples=100, deadline=None)
@given(
    prefix=st.sampled_from(
        [b"", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF89a", b"BM", b"II*\x00"]
    ),
    body=st.binary(max_size=200),
    real=st.sampled_from(["ok.jpg", "ok.png", "alpha.png", "gray16.png", "cmyk.jpg"]),
    cut=st.integers(0, 2000),
)
def test_load_image_never_raises_on_random_bytes(
    prefix: bytes, body: bytes, real: str, cut: int
) -> None:
    """Random bytes behind an image signature, and real images cut short or with bytes flipped."""
    data = (IMAGES / real).read_bytes()
    flipped = bytearray(data)
    if body:
        for k, b in enumerate(body[:8]):
            flipped[(cut + 97 * k) % len(flipped)] ^= b
    with tempfile.TemporaryDirectory() as folder:
        for i, content in enumerate([prefix + body, data[:cut], bytes(flipped)]):
            path = Path(folder) / f"{i}.img"
            path.write_bytes(content)
            pixels, warning = load_image(path)
            assert pixels is not None or warning is not None
            if pixels is not None:
                assert pixels.dtype == np.uint8 and pixels.ndim == 3 and pixels.shape[2] == 3


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_read_from_the_header(orientation: int, tmp_path: Path) -> None:
    exif = PIL.Image.Exif()
    exif[0x010F] = "camera"
    exif[0x0112] = orientation
    path = tmp_path / "photo.jpg"
    PIL.Image.new("RGB", (8, 4)).save(path, exif=exif.tobytes())
    with PIL.Image.open(path) as image:
        assert exif_orientation(image) == image.getexif()[0x0112] == orientation
    size, note = header_size(path)
    assert size == (8, 4)  # as stored, never swapped
    assert (note is None) == (orientation == 1)


def test_truncated_jpeg_detection() -> None:
    whole = (IMAGES / "ok.jpg").read_bytes()
    cut = (IMAGES / "truncated.jpg").read_bytes()
    assert not _jpeg_truncated(np.frombuffer(whole, np.uint8))
    assert _jpeg_truncated(np.frombuffer(cut, np.uint8))
    assert not _jpeg_truncated(np.frombuffer(b"\x89PNG", np.uint8))


def test_image_folder_that_disappears_after_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A project whose images are gone still opens, analyses and exports; images load as None."""
    folder = tmp_path / "images"
    shutil.copytree(IMAGES, folder)
    out = tmp_path / "p.labelfix"
    code, err = labelfix(
        capsys,
        "import",
        "--gt",
        str(CORPUS / "images_gt.json"),
        "--images",
        str(folder),
        "--predictions",
        str(CORPUS / "images_pred.json"),
        "-o",
        str(out),
        "-q",
    )
    assert code == 0, err
    shutil.rmtree(folder)
    for args in (
        ("info", str(out)),
        ("analyze", str(out), "-q"),
        ("suspects", str(out), "--format", "json"),
        ("export", str(out), "-o", str(tmp_path / "out.json"), "-q"),
    ):
        code, err = labelfix(capsys, *args)
        assert code == 0, (args, err)
    exported = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert exported == json.loads((CORPUS / "images_gt.json").read_text(encoding="utf-8"))
    with Store.open(out, readonly=True) as store:
        image = store.images()[0]
        path = store.image_path(image)
        assert path is not None and not path.exists()
        pixels, warning = load_image(path)
        assert pixels is None and warning is not None and "not found" in warning
