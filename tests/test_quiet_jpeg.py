"""Decoding a damaged JPEG (the demo's 000000000544.jpg: "Corrupt JPEG data: 25 extraneous
bytes before marker 0xd9") printed libjpeg's warning to stderr at every decode, from the app's
image threads and the analysis alike. It is now the decode's note for that image; whatever
else reaches stderr meanwhile is still shown, and stderr is itself again afterwards."""

from __future__ import annotations

import os
import threading

import pytest

from labelfix.core import images, opencv
from labelfix.core.images import load_image

from helpers import ROOT

DAMAGED = ROOT / "resources" / "demo" / "images" / "000000000544.jpg"
FINE = ROOT / "resources" / "demo" / "images" / "000000000164.jpg"

pytestmark = pytest.mark.skipif(opencv.module() is None, reason="libjpeg's warning is OpenCV's")


def test_a_damaged_jpeg_decodes_quietly_with_a_note(capfd: pytest.CaptureFixture[str]) -> None:
    pixels, note = load_image(DAMAGED)
    assert pixels is not None and pixels.shape[2] == 3
    assert note is not None
    assert note.startswith("the JPEG data is damaged (Corrupt JPEG data: 25 extraneous bytes")
    assert note.endswith(str(DAMAGED))
    fine, none = load_image(FINE)
    assert fine is not None and none is None
    assert "Corrupt JPEG" not in capfd.readouterr().err


def test_other_stderr_output_during_a_decode_is_passed_on(
    capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cv2 = opencv.module()
    real = cv2.imdecode

    def noisy(data: object, flags: int) -> object:
        os.write(2, b"a real error from elsewhere\n")
        return real(data, flags)

    monkeypatch.setattr(cv2, "imdecode", noisy)
    pixels, note = images.load_image(DAMAGED)
    assert pixels is not None and note is not None
    err = capfd.readouterr().err
    assert "a real error from elsewhere" in err and "Corrupt JPEG" not in err


def test_decoding_threads_give_stderr_back(capfd: pytest.CaptureFixture[str]) -> None:
    notes: list[str | None] = []

    def decode() -> None:
        for _ in range(5):
            notes.append(load_image(DAMAGED)[1])

    threads = [threading.Thread(target=decode) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(notes) == 20 and all(n and "damaged" in n for n in notes)
    os.write(2, b"stderr is back\n")
    err = capfd.readouterr().err
    assert "stderr is back" in err and "Corrupt JPEG" not in err
