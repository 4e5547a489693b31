"""A file only its owner can read, that appears whole or not at all: for exports of the audit
trail, which name who looked at which child's records."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import TextIO

PRIVATE_MODE = 0o600


class PrivateFile:
    """Written to a hidden temporary file (mode 0600 from the start, whatever the umask) in the
    destination's folder, then moved into place by `publish`.

    Without `overwrite`, an existing file is refused before anything is written and again,
    atomically, when publishing (a hard link fails if the name was taken meanwhile).
    """

    def __init__(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> None:
        self.path = Path(path).absolute()
        self.overwrite = overwrite
        if not self.path.parent.is_dir():
            raise FileNotFoundError(f"no folder {self.path.parent}")
        if self.path.exists() and not overwrite:
            raise FileExistsError(f"{self.path} already exists (use --force to replace it)")
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        os.fchmod(fd, PRIVATE_MODE)
        self._temp = Path(temp)
        self._stream = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._published = False

    @property
    def name(self) -> str:
        return str(self.path)

    @property
    def stream(self) -> TextIO:
        return self._stream

    def publish(self) -> None:
        self._stream.flush()
        os.fsync(self._stream.fileno())
        self._stream.close()
        if self.overwrite:
            os.replace(self._temp, self.path)
        else:
            try:
                os.link(self._temp, self.path)
            except FileExistsError:
                raise FileExistsError(
                    f"{self.path} appeared while exporting: nothing was replaced"
                ) from None
            self._temp.unlink()
        self._published = True

    def discard(self) -> None:
        self._stream.close()
        with contextlib.suppress(FileNotFoundError):
            self._temp.unlink()
        if self._published:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()
            self._published = False
