"""ML images: identical files at several paths, and large model or data files in layers that
change often."""

from __future__ import annotations

from itertools import compress, repeat
from operator import attrgetter, ge

from .context import Context
from .facts import DuplicateFacts, ModelFacts
from .model import Evidence, Suggestion, SuggestionKind

MODEL_SUFFIXES = (
    ".pt",
    ".pth",
    ".safetensors",
    ".onnx",
    ".h5",
    ".ckpt",
    ".parquet",
    ".gguf",
    ".pb",
)
DUPLICATE_MIN_BYTES = 1 << 20
MODEL_MIN_BYTES = 1 << 20
_size_of = attrgetter("entry.size_bytes")


def find_duplicates(ctx: Context) -> list[Suggestion]:
    """Same content (hash and size) visible at more than one path, 1 MiB or more each."""
    groups: dict[tuple[str, int], list[Evidence]] = {}
    final = ctx.analysis.filesystem.final
    # only the big files reach the loop (the sizes are compared in C: 100k+ nodes)
    sizes = map(_size_of, final.values())
    for path, node in compress(final.items(), map(ge, sizes, repeat(DUPLICATE_MIN_BYTES))):
        e = node.entry
        if e.content_hash:  # (its size was checked by the filter above)
            groups.setdefault((e.content_hash, e.size_bytes), []).append(
                Evidence(path, e.size_bytes, node.layer_index)
            )
    out = []
    for (_, size), items in sorted(groups.items(), key=lambda kv: -kv[0][1] * len(kv[1])):
        if len(items) < 2:
            continue
        items.sort(key=lambda e: (e.layer_index, e.path))
        extra = tuple(items[1:])  # the first copy stays
        layers = tuple(sorted({e.layer_index for e in items}))
        out.append(
            Suggestion(
                id="",
                kind=SuggestionKind.DUPLICATE_FILES,
                facts=DuplicateFacts(tuple(e.path for e in items)),
                layers=layers,
                instructions=tuple(ctx.label(i) for i in layers),
                lines=(),
                evidence=extra,
                estimated_saving_bytes=size * len(extra),
            )
        )
    return out


def find_models(ctx: Context) -> list[Suggestion]:
    """Model/data files baked into a layer that also holds other, often-changing files."""
    out = []
    for index in range(ctx.first_user_layer, len(ctx.image.layers)):
        files = list(ctx.visible_files(index))
        models = [
            e for e in files if e.path.endswith(MODEL_SUFFIXES) and e.size_bytes >= MODEL_MIN_BYTES
        ]
        if not models:
            continue
        stats = ctx.stats(index)
        others = len(files) - len(models)
        changes = stats is not None and stats.misses > 0
        if not changes and others == 0 and index == ctx.first_user_layer:
            continue  # already in an early layer of their own
        missed = stats if stats is not None and changes else None
        out.append(
            Suggestion(
                id="",
                kind=SuggestionKind.LARGE_MODEL_FILES,
                facts=ModelFacts(
                    index,
                    len(models),
                    tuple(e.path for e in models[:5]),
                    missed.misses if missed is not None else None,
                    missed.builds if missed is not None else None,
                    others,
                ),
                layers=(index,),
                instructions=(ctx.label(index),),
                lines=(),
                evidence=tuple(Evidence(e.path, e.size_bytes, index) for e in models),
                estimated_saving_bytes=0,
                estimated_saving_rebuilds=stats.misses if stats is not None else None,
            )
        )
    return out
