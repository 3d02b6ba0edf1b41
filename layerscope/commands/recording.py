"""The history store as one command run uses it: record what it read, read back earlier builds."""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis.suggest.model import HistoryHints
    from ..errors import StoreUnavailableError
    from ..model import BuildRecord, Image
    from ..store import LayerCache


class HistoryAccess:
    """``--store`` for one command run. An unreachable store is remembered: later reads of the
    same run skip it instead of waiting for it again."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.unavailable: StoreUnavailableError | None = None

    def record(
        self,
        image: Image,
        err: IO[str],
        *,
        ref: str | None = None,
        base_layer_count: int | None = None,
        required: bool = False,
    ) -> None:
        """Record an analysed image; a failure is a warning on ``err``, never fatal, unless
        the command cannot do without the history (``required``): then it is raised."""
        from ..errors import StoreError, StoreUnavailableError
        from ..store.history import HistoryStore, record_build

        if self.unavailable is not None:
            return
        try:
            with HistoryStore(self.url) as store:
                record_build(store, image, ref=ref, base_layer_count=base_layer_count)
        except StoreError as exc:
            if isinstance(exc, StoreUnavailableError):
                self.unavailable = exc
                if required:
                    raise
            print(f"layerscope: warning: build not recorded: {exc.message}", file=err)

    def builds(self, image: Image, ref: str | None) -> tuple[BuildRecord, ...]:
        """The builds recorded for the image's repository (``ref``: what it was loaded as);
        none when nothing is recorded or the store cannot be read."""
        from ..errors import StoreError
        from ..store.history import HistoryStore, repository_of

        repository, _tag = repository_of(image, ref)
        if self.unavailable is not None:
            return ()
        try:
            with HistoryStore(self.url) as store:
                return store.builds(repository)
        except StoreError:
            return ()


def history_context(
    builds: tuple[BuildRecord, ...], image: Image, layer_cache: LayerCache | None
) -> tuple[HistoryHints | None, Image | None]:
    """From the recorded builds of the image's repository: the cache hints ``suggest`` uses,
    and the previous build rebuilt from the layer cache (None when a layer of it is gone)."""
    from ..analysis.cache import cache_history
    from ..analysis.suggest.history import hints_from_history
    from ..store import rebuild_image

    if not builds:
        return None, None
    history = cache_history(builds)
    ordered = [entry.build for entry in history.builds]
    previous = None
    ids = [build.image_id for build in ordered]
    if image.image_id in ids and ids.index(image.image_id) > 0 and layer_cache is not None:
        previous = rebuild_image(ordered[ids.index(image.image_id) - 1], layer_cache)
    return hints_from_history(history), previous
