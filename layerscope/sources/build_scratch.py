"""The scratch build contexts of ``suggest --prove``: two copies of the user's build context in
the cache directory (``original`` and ``patched``), the Dockerfile texts written into them, the
builds run on them, and on the way out every image tagged and every copy removed.

The user's own context is only read (copied); all writes go to the copies.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ..config_paths import cache_dir
from .daemon_build import Builder, BuildOutcome

WHICH = ("original", "patched")
"""The two copies."""
_STEP_LINE = re.compile(
    r"^(Step \d+/\d+ :|#\d+ \[(\S+ +)?\s*\d+/\d+\]|#\d+ (CACHED|ERROR)|(\[\d+/\d+\] )?STEP \d+)"
)
"""Builder output lines shown as progress: step headers, cache hits, errors."""


class BuildScratch:
    """Scratch copies of a build context, and the builds on them (a context manager)."""

    def __init__(
        self,
        builder: Builder,
        context: Path,
        dockerfile_rel: str | None,
        sink: Callable[[str], None],
    ) -> None:
        self.builder = builder
        self.source = context
        self.dockerfile_rel = dockerfile_rel
        """The Dockerfile's path inside the context, or None when it lives outside."""
        self.sink = sink
        self.token = uuid.uuid4().hex[:12]
        """Names this run's images, and the line the cache experiment appends."""
        self.tags: list[str] = []
        self.builds = 0
        self.root = Path()

    def __enter__(self) -> BuildScratch:
        parent = cache_dir()
        parent.mkdir(parents=True, exist_ok=True)
        self.root = Path(tempfile.mkdtemp(prefix="prove-", dir=parent))
        try:
            for which in WHICH:
                shutil.copytree(self.source, self.root / which / "context", symlinks=True)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            try:
                self.builder.remove(self.tags)
            finally:
                self.builder.close()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def context(self, which: str) -> Path:
        return self.root / which / "context"

    def write(self, which: str, dockerfile: str, ignore: str | None) -> Path:
        """Put the Dockerfile and .dockerignore texts in place; return the Dockerfile path."""
        ctx = self.context(which)
        target = (
            ctx / self.dockerfile_rel
            if self.dockerfile_rel is not None
            else self.root / which / "Dockerfile"
        )
        target.write_text(dockerfile, encoding="utf-8")
        ignore_path = ctx / ".dockerignore"
        if ignore is None:
            ignore_path.unlink(missing_ok=True)
        else:
            ignore_path.write_text(ignore, encoding="utf-8")
        return target

    def append(self, rel: str, line: str) -> None:
        """Append ``line`` to the file ``rel`` (relative to the context) in both copies."""
        for which in WHICH:
            with open(self.context(which) / rel, "a", encoding="utf-8") as handle:
                handle.write(line)

    def build(self, which: str, dockerfile: Path, label: str) -> tuple[BuildOutcome, str]:
        """Build copy ``which`` with ``dockerfile``, tagged for this run; (outcome, tag)."""
        self.builds += 1
        tag = f"layerscope-prove/{self.token}:{label}"
        self.tags.append(tag)
        self.sink(f"building {label} ({self.builder.name})")
        outcome = self.builder.build(self.context(which), dockerfile, tag, self._progress(label))
        return outcome, tag

    def _progress(self, label: str) -> Callable[[str], None]:
        def show(line: str) -> None:
            if _STEP_LINE.match(line):
                self.sink(f"  [{label}] {line[:150]}")

        return show
