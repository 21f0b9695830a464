"""Which ffmpeg runs: an unfit candidate (too old, missing filters) is passed over with its reasons."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import imageio_ffmpeg
import pytest

from clipflow_worker.pipeline.ffmpeg import (
    REQUIRED_FILTERS,
    FFmpegSetupError,
    choose_ffmpeg,
    ffmpeg_binary,
    ffmpeg_choice,
    inspect_ffmpeg,
)

BUNDLED = imageio_ffmpeg.get_ffmpeg_exe()
DEBIAN_FFMPEG = Path("/usr/bin/ffmpeg")

# What Debian 12's 5.1 build answers, minus libass: enough of a real ffmpeg's shape to be parsed.
OLD_FFMPEG = r"""#!/bin/sh
for arg in "$@"; do
  case "$arg" in
    -version) echo "ffmpeg version 5.1.6-0+deb12u1 Copyright (c) 2000-2024 the FFmpeg developers"; exit 0;;
    -filters) printf 'Filters:\n  T.. = Timeline support\n %s\n' {filters}; exit 0;;
    -encoders) printf 'Encoders:\n V..... = Video\n %s\n' 'V....D libx264  H.264' 'A....D aac  AAC' 'VFS..D mjpeg  MJPEG' 'A....D pcm_s16le  PCM' 'VF...D png  PNG'; exit 0;;
    long) echo "-autorotate  automatically insert correct rotate filters"; exit 0;;
  esac
done
exit 1
"""


def executable(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def old_ffmpeg_on_path(folder: Path) -> Path:
    """A fake ``ffmpeg`` that says it is 5.1 and lacks the ass and drawbox filters."""
    folder.mkdir()
    present = sorted(REQUIRED_FILTERS - {"ass", "drawbox"})
    rows = " ".join(f"'... {name}  V->V  x'" for name in present)
    return executable(folder / "ffmpeg", OLD_FFMPEG.replace("{filters}", rows))


def test_an_old_ffmpeg_on_path_is_rejected_with_its_reasons_and_the_bundled_one_chosen(tmp_path: Path) -> None:
    # given
    fake = old_ffmpeg_on_path(tmp_path / "bin")
    # when
    choice = choose_ffmpeg({"PATH": f"{fake.parent}{os.pathsep}/bin"})
    # then
    assert choice.path == BUNDLED
    assert choice.reason == "bundled with imageio-ffmpeg; ffmpeg on PATH is unfit"
    assert [(c.path, c.source, c.version, c.missing) for c in choice.rejected] == [
        (
            str(fake),
            "PATH",
            "5.1.6-0+deb12u1",
            ("version 6.0 or newer (it is 5.1.6-0+deb12u1)", "filter ass", "filter drawbox", "option -display_rotation"),
        )
    ]


def test_a_fit_ffmpeg_on_path_is_preferred_to_the_bundled_one(tmp_path: Path) -> None:
    # given: a real, current ffmpeg reached through PATH (a wrapper around the bundled binary)
    folder = tmp_path / "bin"
    folder.mkdir()
    wrapper = executable(folder / "ffmpeg", f'#!/bin/sh\nexec "{BUNDLED}" "$@"\n')
    # when
    choice = choose_ffmpeg({"PATH": str(folder)})
    # then
    assert (choice.path, choice.reason, choice.rejected) == (
        str(wrapper), "ffmpeg on PATH has every feature we use", ()
    )


def test_an_unfit_ffmpeg_binary_override_is_refused_not_replaced(tmp_path: Path) -> None:
    fake = old_ffmpeg_on_path(tmp_path / "bin")
    with pytest.raises(FFmpegSetupError) as refused:
        choose_ffmpeg({"FFMPEG_BINARY": str(fake), "PATH": "/bin"})
    assert str(refused.value) == (
        f"FFMPEG_BINARY={fake} cannot be used: it lacks version 6.0 or newer (it is 5.1.6-0+deb12u1), "
        "filter ass, filter drawbox, option -display_rotation. Unset FFMPEG_BINARY to use the bundled "
        "ffmpeg, or point it at ffmpeg 6.0 or newer built with libass and libx264."
    )


def test_a_binary_that_does_not_run_is_rejected(tmp_path: Path) -> None:
    broken = executable(tmp_path / "ffmpeg", "#!/bin/sh\nexit 3\n")
    candidate = inspect_ffmpeg(str(broken), "PATH")
    assert candidate.fit is False
    assert candidate.version == ""
    assert len(candidate.missing) == 1 and candidate.missing[0].startswith("does not run (Command ")


def test_a_fit_ffmpeg_binary_override_is_used(tmp_path: Path) -> None:
    choice = choose_ffmpeg({"FFMPEG_BINARY": BUNDLED, "PATH": str(tmp_path)})
    assert (choice.path, choice.reason, choice.rejected) == (BUNDLED, "set by FFMPEG_BINARY", ())
    assert choice.version.startswith("n") or choice.version[0].isdigit()


@pytest.mark.skipif(not DEBIAN_FFMPEG.exists(), reason="Debian's ffmpeg is not installed (apt-get install ffmpeg)")
def test_debian_12_ffmpeg_is_rejected_for_the_bundled_one() -> None:
    # given: the distribution's own build on PATH
    debian = inspect_ffmpeg(str(DEBIAN_FFMPEG), "PATH")
    if debian.version.startswith(("5.", "4.")):
        # then: the 5.1 of Debian 12 lacks the rotation option the suite relies on
        assert not debian.fit
        assert f"version 6.0 or newer (it is {debian.version})" in debian.missing
        assert "option -display_rotation" in debian.missing
        choice = choose_ffmpeg({"PATH": str(DEBIAN_FFMPEG.parent)})
        assert choice.path == BUNDLED
        assert choice.rejected == (debian,)
    else:  # a newer Debian ships a fit ffmpeg, which is then preferred
        assert choose_ffmpeg({"PATH": str(DEBIAN_FFMPEG.parent)}).path == (str(DEBIAN_FFMPEG) if debian.fit else BUNDLED)


def test_this_process_runs_a_fit_ffmpeg() -> None:
    choice = ffmpeg_choice()
    assert ffmpeg_binary() == choice.path
    assert inspect_ffmpeg(choice.path, "in use").missing == ()
