"""Ready-made image specs: the demo Python app, dive #684's chown rewrite, and benchmark images."""

from __future__ import annotations

from layerscope.testing._builder_strings import nop
from layerscope.testing.demo import demo_spec
from layerscope.testing.large import LazyEntries, large_spec
from layerscope.testing.spec import Dir, EmptyHistory, Entry, File, ImageSpec, LayerSpec, Synthetic

__all__ = ["LazyEntries", "chown_rewrite_spec", "demo_spec", "large_spec"]


def chown_rewrite_spec(
    files: int = 20, file_size: int = 4096, uid: int = 1000, gid: int = 1000
) -> ImageSpec:
    """dive #684: a tree of ``files`` files, then ``chown -R`` rewrites each with another uid/gid.

    Layer 0 holds ``/data/`` plus ``/data/sub{k}/f{i}.bin`` (root-owned, ``file_size`` bytes each);
    layer 1 holds the same directories and files with identical content and mode, owned by
    ``uid:gid``. Every rewritten byte is a metadata-only rewrite.
    """

    def tree(owner: int, group: int) -> list[Entry]:
        out: list[Entry] = [Dir("/data", uid=owner, gid=group)]
        for i in range(files):
            if i % 10 == 0:
                out.append(Dir(f"/data/sub{i // 10}", uid=owner, gid=group))
            content = Synthetic(file_size, seed=f"chown-{i}", kind="text")
            out.append(File(f"/data/sub{i // 10}/f{i}.bin", content, uid=owner, gid=group))
        return out

    return ImageSpec(
        layers=[
            LayerSpec(
                tree(0, 0), created_by="/bin/sh -c #(nop) COPY dir:" + "ab" * 32 + " in /data "
            ),
            LayerSpec(tree(uid, gid), created_by=f"/bin/sh -c chown -R {uid}:{gid} /data"),
        ],
        history_extra=[EmptyHistory(nop('CMD ["sh"]'), after=1)],
        repo_tags=["example.com/chown-rewrite:latest"],
    )
