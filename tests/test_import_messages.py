"""What an import says about the image folder: a folder holding none of the images is one
sentence (with where the images are, when that can be seen), not a warning per image; a JPEG or
PNG cut short (its header intact) is a warning naming the file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from PIL import Image

from labelfix.core.cli import run
from labelfix.core.coco import check_images
from labelfix.core.images import JPEG_ENDS_EARLY, PNG_ENDS_EARLY, data_ends_early, jpeg_damage

EXPORTERS = Path(__file__).resolve().parent / "data" / "exporters"
GT = EXPORTERS / "cvat_coco_1_0.json"


def import_with(folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = run(
        ["import", "--gt", str(GT), "--images", str(folder), "-o", str(tmp_path / "x.labelfix")]
    )
    err = capsys.readouterr().err
    assert code == 0, err
    return err


def test_a_folder_without_the_images_is_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "photos"
    empty.mkdir()
    err = import_with(empty, tmp_path, capsys)
    warnings = [line for line in err.splitlines() if line.startswith("  warning: ")]
    assert warnings == [
        f"  warning: {GT}: (images folder): none of the 3 images were found under {empty}; "
        "check the folder"
    ]


def test_quiet_hides_the_progress_not_the_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """-q hides the progress bar (and status lines) only, as the README says: a warning the
    user has to act on still reaches stderr."""
    empty = tmp_path / "photos"
    empty.mkdir()
    out = tmp_path / "x.labelfix"
    code = run(["import", "--gt", str(GT), "--images", str(empty), "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "1 warning(s):" in err and "none of the 3 images were found under" in err
    assert "imported 3 images" not in err  # the status line stays quiet


def test_the_sentence_says_where_the_images_are(tmp_path: Path) -> None:
    images = [{"id": 1, "file_name": "street_1.jpg"}, {"id": 2, "file_name": "street_2.jpg"}]
    [problem] = check_images(images, EXPORTERS)
    assert problem.reason.endswith(f"(they are in its subfolder {EXPORTERS / 'images'})")
    prefixed = [
        {"id": 1, "file_name": "train/street_1.jpg"},
        {"id": 2, "file_name": "train/street_2.jpg"},
    ]
    [problem] = check_images(prefixed, EXPORTERS / "images")
    assert "the file names start with a folder, e.g. 'train/street_1.jpg'" in problem.reason


def _jpeg(path: Path) -> None:
    Image.new("RGB", (4, 3)).save(path)


def test_coco_2014_names_against_a_2017_folder_say_so(tmp_path: Path) -> None:
    """Labels named COCO_val2014_000000000544.jpg, a folder of 000000000544.jpg: a hint, the
    files and names untouched."""
    names = ["000000000544.jpg", "000000000632.jpg"]
    for name in names:
        _jpeg(tmp_path / name)
    images = [
        {"id": k, "file_name": f"COCO_val2014_{name}", "width": 4, "height": 3}
        for k, name in enumerate(names)
    ]
    [problem] = check_images(images, tmp_path)
    assert "none of the 2 images were found" in problem.reason
    assert (
        "the file names have the COCO 2014 prefix, e.g. 'COCO_val2014_000000000544.jpg', but "
        "the folder's files do not, e.g. '000000000544.jpg': drop the 'COCO_val2014_' prefix"
    ) in problem.reason
    assert sorted(p.name for p in tmp_path.iterdir()) == names  # nothing renamed


def test_2017_names_against_a_2014_folder_say_so(tmp_path: Path) -> None:
    """The other way round, with one image found: most missing still gets the hint, once."""
    for name in ("COCO_val2014_000000000544.jpg", "COCO_val2014_000000000632.jpg", "x.jpg"):
        _jpeg(tmp_path / name)
    images = [
        {"id": k, "file_name": name, "width": 4, "height": 3}
        for k, name in enumerate(["000000000544.jpg", "000000000632.jpg", "x.jpg"])
    ]
    problems = check_images(images, tmp_path)
    hints = [p.reason for p in problems if p.record == "(images folder)"]
    assert hints == [
        f"2 of the 3 images were not found under {tmp_path} (the folder's files have the COCO "
        "2014 prefix, e.g. 'COCO_val2014_000000000544.jpg', but the file names do not, e.g. "
        "'000000000544.jpg': add the prefix to the file names, or use the 2017 image folder)"
    ]
    assert len(problems) == 3  # the missing images are still named one by one


def test_some_missing_images_are_still_named_one_by_one(tmp_path: Path) -> None:
    folder = tmp_path / "images"
    shutil.copytree(EXPORTERS / "images", folder)
    (folder / "street_2.jpg").unlink()
    images = [{"id": k, "file_name": f"street_{k}.jpg", "width": 1, "height": 1} for k in (1, 2, 3)]
    missing = [p for p in check_images(images, folder) if "not found" in p.reason]
    assert [p.record for p in missing] == ["images[1] (id 2).file_name"]


def test_cut_short_images_are_found_from_their_end(tmp_path: Path) -> None:
    jpeg, png = tmp_path / "a.jpg", tmp_path / "a.png"
    Image.effect_noise((64, 48), 60).convert("RGB").save(jpeg, quality=90)
    Image.effect_noise((64, 48), 60).save(png)
    assert data_ends_early(jpeg) is None and data_ends_early(png) is None
    whole = jpeg.read_bytes()
    (tmp_path / "trailer.jpg").write_bytes(whole + b"\0" * 100)  # bytes after the end: fine
    assert data_ends_early(tmp_path / "trailer.jpg") is None
    (tmp_path / "cut.jpg").write_bytes(whole[: len(whole) * 2 // 3])
    assert data_ends_early(tmp_path / "cut.jpg") == JPEG_ENDS_EARLY
    (tmp_path / "cut.png").write_bytes(png.read_bytes()[:-40])
    assert data_ends_early(tmp_path / "cut.png") == PNG_ENDS_EARLY
    assert data_ends_early(tmp_path / "gone.jpg") is None  # reported by the header check
    images = [{"id": 1, "file_name": "cut.jpg", "width": 64, "height": 48}]
    [problem] = check_images(images, tmp_path)
    assert problem.record == "images[0] (id 1)" and JPEG_ENDS_EARLY in problem.reason
    assert problem.reason.endswith(str(tmp_path / "cut.jpg"))


def damaged_jpeg(tmp_path: Path) -> Path:
    """A JPEG whose compressed data has a run of bytes overwritten (its end marker intact):
    it decodes, with garbage, and libjpeg says "Corrupt JPEG data"."""
    import io

    buffer = io.BytesIO()
    Image.effect_noise((64, 48), 60).convert("RGB").save(buffer, "JPEG", quality=90)
    data = bytearray(buffer.getvalue())
    scan = data.rindex(b"\xff\xda")
    middle = scan + (len(data) - scan) // 2
    data[middle : middle + 40] = bytes(40)
    path = tmp_path / "damaged.jpg"
    path.write_bytes(bytes(data))
    return path


def test_a_damaged_jpeg_is_a_warning_at_import(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = damaged_jpeg(tmp_path)
    assert data_ends_early(path) is None  # its end is fine: only decoding finds the damage
    reason = jpeg_damage(path)
    assert reason is not None and reason.startswith("the JPEG data is damaged (Corrupt JPEG data")
    images = [{"id": 1, "file_name": "damaged.jpg", "width": 64, "height": 48}]
    [problem] = check_images(images, tmp_path)
    assert problem.record == "images[0] (id 1)" and "the JPEG data is damaged" in problem.reason
    fine = tmp_path / "fine.jpg"
    Image.effect_noise((64, 48), 60).convert("RGB").save(fine, quality=90)
    assert jpeg_damage(fine) is None
    print("still printed")  # the capture of libjpeg's stderr gives the stream back
    assert "still printed" in capsys.readouterr().out


def test_the_damaged_jpegs_of_the_real_data_are_named(capsys: pytest.CaptureFixture[str]) -> None:
    """Five of the 81 real COCO images decode with garbage (four with extraneous bytes before
    the end marker, one with a premature end of a data segment)."""
    from helpers import shared_path

    root = shared_path("coco_real81")
    import json

    images = json.loads((root / "annotations" / "instances_real81.json").read_text())["images"]
    damaged = sorted(
        Path(p.reason.rsplit(": ", 1)[1]).name
        for p in check_images(images, root / "images")
        if "JPEG data is damaged" in p.reason
    )
    assert damaged == [
        "000000000042.jpg",
        "000000000074.jpg",
        "000000000387.jpg",
        "000000000544.jpg",
        "000000000599.jpg",
    ]


def test_the_deep_jpeg_check_is_for_datasets_up_to_its_size_or_when_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Above DEEP_CHECK_IMAGES images only the cheap checks run (the decode would cost ~1 ms an
    image); asked for, the deep one runs at any size; a cut-short file is found either way."""
    from labelfix.core import image_checks

    damaged_jpeg(tmp_path)
    images = [{"id": 1, "file_name": "damaged.jpg", "width": 64, "height": 48}]
    assert len(check_images(images, tmp_path)) == 1
    monkeypatch.setattr(image_checks, "DEEP_CHECK_IMAGES", 0)
    assert check_images(images, tmp_path) == []
    [problem] = check_images(images, tmp_path, deep=True)
    assert "the JPEG data is damaged" in problem.reason
    cut = tmp_path / "cut.jpg"
    Image.effect_noise((64, 48), 60).convert("RGB").save(cut, quality=90)
    cut.write_bytes(cut.read_bytes()[:-300])
    [problem] = check_images(
        [{"id": 2, "file_name": "cut.jpg", "width": 64, "height": 48}], tmp_path
    )
    assert "ends early" in problem.reason


def test_load_image_keeps_libjpeg_quiet_and_names_the_damaged_file(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """Decoding a damaged JPEG (predict, analyse, the canvas) prints no bare libjpeg line on
    stderr; the damage is one warning naming the file, and the pixels are still used."""
    from labelfix.core.images import load_image

    path = damaged_jpeg(tmp_path)
    rgb, warning = load_image(path)
    err = capfd.readouterr().err
    assert "Corrupt JPEG data" not in err, err
    assert rgb is not None and rgb.shape == (48, 64, 3)
    assert warning is not None and warning.startswith("the JPEG data is damaged (Corrupt JPEG")
    assert warning.endswith(str(path))
    fine = tmp_path / "fine.jpg"
    Image.effect_noise((64, 48), 60).convert("RGB").save(fine, quality=90)
    assert load_image(fine)[1] is None


def test_load_image_still_names_a_jpeg_that_cannot_be_decoded(tmp_path: Path) -> None:
    from labelfix.core.images import load_image

    path = damaged_jpeg(tmp_path)
    data = bytearray(path.read_bytes())
    scan = data.rindex(b"\xff\xda")
    path.write_bytes(bytes(data[: scan + 12]))  # the header, then the scan's data gone
    rgb, message = load_image(path)
    assert rgb is None or message is not None
    assert message is not None and str(path) in message


def test_other_stderr_output_during_a_jpeg_decode_is_passed_on(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only libjpeg's own warnings are taken from stderr while a JPEG decodes; anything else
    written there meanwhile (another thread's message) still reaches stderr."""
    import os

    import cv2

    from labelfix.core.images import load_image

    real = cv2.imdecode

    def noisy(data, flags):
        os.write(2, b"another thread says hello\nCorrupt JPEG data: 3 extraneous bytes\n")
        return real(data, flags)

    monkeypatch.setattr(cv2, "imdecode", noisy)
    fine = tmp_path / "fine.jpg"
    Image.effect_noise((64, 48), 60).convert("RGB").save(fine, quality=90)
    rgb, warning = load_image(fine)
    err = capfd.readouterr().err
    assert "another thread says hello" in err and "Corrupt JPEG data" not in err
    assert rgb is not None and warning is not None and "3 extraneous bytes" in warning


def test_a_results_file_given_as_labels_says_so_in_one_short_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The first mix-up of a new user: the model's results file in the labels' place. The
    report says what the file looks like and where it goes, without pages of its records."""
    results = tmp_path / "results.json"
    record = {"image_id": 1, "category_id": 1, "bbox": [4.5, 6.25, 20.0, 15.0], "score": 0.9}
    results.write_text(json.dumps([record] * 50))
    for args in (["--images", str(EXPORTERS / "images")], []):
        out = tmp_path / "x.labelfix"
        code = run(["import", "--gt", str(results), *args, "-o", str(out)])
        err = capsys.readouterr().err
        assert code == 2
        assert not out.exists()
        [line] = [s for s in err.splitlines() if s.startswith("  top level: ")]
        assert "an array of 50 prediction records (image_id, category_id, bbox, score)" in line
        assert "a COCO results file? Give it as the predictions" in line
        assert len(line) < 240, line


def test_the_in_memory_reader_says_the_same_of_a_results_file(tmp_path: Path) -> None:
    from labelfix.core.coco import CocoError, read_ground_truth

    results = tmp_path / "results.json"
    record = {"image_id": 1, "category_id": 1, "bbox": [4, 6, 20, 15], "score": 0.9}
    results.write_text(json.dumps([record, record]))
    with pytest.raises(CocoError) as caught:
        read_ground_truth(results)
    assert "an array of 2 prediction records" in str(caught.value)
    assert "a COCO results file? Give it as the predictions" in str(caught.value)


def test_a_file_given_as_the_image_folder_is_named_as_a_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--images labels.json` (the labels file in the folder's place) said "no such image
    folder" of a file that is there."""
    code = run(["import", "--gt", str(GT), "--images", str(GT), "-o", str(tmp_path / "x.labelfix")])
    err = capsys.readouterr().err
    assert code == 2
    assert f"labelfix: {GT} is a file, not a folder: --images takes the folder of the images" in err
