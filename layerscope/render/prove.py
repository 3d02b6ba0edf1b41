"""``suggest --prove`` results as text and as the ``proof`` object of the suggest JSON."""

from __future__ import annotations

from typing import Any

from ..analysis.prove import (
    CacheExperiment,
    CacheRun,
    DroppedSuggestion,
    Proof,
    SuggestionProof,
    relative_error,
)
from ..analysis.suggest.model import SuggestionKind
from .text import size


def _run_doc(run: CacheRun) -> dict[str, Any]:
    return {
        "steps": run.steps,
        "steps_hit": run.steps_hit,
        "first_miss": run.first_miss,
        "steps_run": list(run.ran),
        "layers": run.layers,
        "layers_rebuilt": run.layers_rebuilt,
        "bytes_rebuilt": run.bytes_rebuilt,
        "seconds": run.seconds,
    }


def proof_document(proof: Proof) -> dict[str, Any]:
    """The ``proof`` object (docs/json-schema.md, suggest)."""
    error = relative_error(proof.estimated_saving_bytes, proof.measured_saving_bytes)
    doc: dict[str, Any] = {
        "builder": proof.builder,
        "original_bytes": proof.original_bytes,
        "patched_bytes": proof.patched_bytes,
        "estimated_saving_bytes": proof.estimated_saving_bytes,
        "measured_saving_bytes": proof.measured_saving_bytes,
        "relative_error": None if error is None else round(error, 4),
        "original_build_seconds": proof.original_seconds,
        "patched_build_seconds": proof.patched_seconds,
        "patch_builds": proof.patch_builds,
        "applied": list(proof.applied),
        "patch": proof.patch,
        "suggestions": [
            {
                "id": s.id,
                "kind": s.kind.value,
                "estimated_saving_bytes": s.estimated_saving_bytes,
                "measured_saving_bytes": s.measured_saving_bytes,
                "builds": s.builds,
            }
            for s in proof.suggestions
        ],
        "dropped": [
            {"id": d.id, "step": d.step, "reason": d.reason, "log_tail": list(d.log_tail)}
            for d in proof.dropped
        ],
        "cache_experiment": None,
        "notes": list(proof.notes),
        "images_removed": list(proof.images),
        "recorded_at": proof.recorded_at,
    }
    if proof.cache is not None:
        doc["cache_experiment"] = {
            "touched": proof.cache.touched,
            "original": _run_doc(proof.cache.original),
            "patched": _run_doc(proof.cache.patched),
        }
    return doc


def _run_of(doc: dict[str, Any]) -> CacheRun:
    return CacheRun(
        steps=int(doc["steps"]),
        steps_hit=int(doc["steps_hit"]),
        layers=int(doc["layers"]),
        layers_rebuilt=int(doc["layers_rebuilt"]),
        bytes_rebuilt=int(doc["bytes_rebuilt"]),
        seconds=float(doc["seconds"]),
        first_miss=doc.get("first_miss"),
        ran=tuple(doc.get("steps_run") or ()),
    )


def proof_from_document(doc: dict[str, Any], recorded_at: str | None = None) -> Proof:
    """The Proof a ``proof`` object describes (read back from the data directory);
    ValueError, KeyError or TypeError when it is not one."""
    cache = doc.get("cache_experiment")
    return Proof(
        builder=str(doc["builder"]),
        original_bytes=int(doc["original_bytes"]),
        patched_bytes=int(doc["patched_bytes"]),
        estimated_saving_bytes=int(doc["estimated_saving_bytes"]),
        applied=tuple(str(i) for i in doc["applied"]),
        patch=doc.get("patch"),
        patch_builds=bool(doc["patch_builds"]),
        original_seconds=float(doc["original_build_seconds"]),
        patched_seconds=float(doc["patched_build_seconds"]),
        suggestions=tuple(
            SuggestionProof(
                str(s["id"]),
                SuggestionKind(s["kind"]),
                int(s["estimated_saving_bytes"]),
                None if s.get("measured_saving_bytes") is None else int(s["measured_saving_bytes"]),
                s.get("builds"),
            )
            for s in doc.get("suggestions") or ()
        ),  # fmt: skip
        dropped=tuple(
            DroppedSuggestion(
                str(d["id"]), str(d["step"]), tuple(d.get("log_tail") or ()), str(d["reason"])
            )
            for d in doc.get("dropped") or ()
        ),  # fmt: skip
        cache=None
        if not cache
        else CacheExperiment(
            str(cache["touched"]), _run_of(cache["original"]), _run_of(cache["patched"])
        ),
        notes=tuple(doc.get("notes") or ()),
        images=tuple(doc.get("images_removed") or ()),
        recorded_at=recorded_at if recorded_at is not None else doc.get("recorded_at"),
    )


def render_proof_text(proof: Proof) -> str:
    """The proof section printed after the suggestions."""
    out = ["", f"Proof: built the original and the patched Dockerfile ({proof.builder})"]
    if proof.recorded_at is not None:
        out[-1] = (
            f"Proof (an earlier run, {proof.recorded_at}): built the original and the patched "
            f"Dockerfile ({proof.builder})"
        )
    error = relative_error(proof.estimated_saving_bytes, proof.measured_saving_bytes)
    off = f", {error * 100:.1f}% off" if error is not None else ""
    out.append(
        f"  image {size(proof.original_bytes)} -> {size(proof.patched_bytes)}: "
        f"saved {size(proof.measured_saving_bytes)} measured, "
        f"{size(proof.estimated_saving_bytes)} estimated{off}"
    )
    rows = [
        s for s in proof.suggestions if s.measured_saving_bytes is not None or s.builds is False
    ]
    if proof.suggestions:
        out.append(f"  {'suggestion':<16} {'estimated':>10} {'measured':>10}")
        for s in proof.suggestions:
            measured = (
                size(s.measured_saving_bytes)
                if s.measured_saving_bytes is not None
                else ("failed" if s.builds is False else "-")
            )
            out.append(f"  {s.id:<16} {size(s.estimated_saving_bytes):>10} {measured:>10}")
        if not rows:
            out.append("  (per-suggestion figures: --prove=each builds each one on its own)")
    for d in proof.dropped:
        out.append(f"  dropped {d.id}: {d.reason}")
        out += [f"    | {line}" for line in d.log_tail]
    if proof.cache is not None:
        c = proof.cache
        out.append(f"  cache experiment: appended a line to {c.touched}, rebuilt both")
        out.append(f"    {'':<10} {'steps hit':>10} {'layers rebuilt':>15} {'bytes rebuilt':>14} "
                   f"{'seconds':>8}")  # fmt: skip
        for label, run in (("original", c.original), ("patched", c.patched)):
            out.append(
                f"    {label:<10} {run.steps_hit:>5}/{run.steps:<4} "
                f"{run.layers_rebuilt:>8}/{run.layers:<6} {size(run.bytes_rebuilt):>14} "
                f"{run.seconds:>8.1f}"
            )
            if run.first_miss:
                out.append(f"      first step rebuilt: {run.first_miss[:100]}")
    for note in proof.notes:
        out.append(f"  note: {note}")
    verdict = "builds" if proof.patch_builds else "does not build"
    applied = ", ".join(proof.applied) or "no suggestion"
    out.append(f"Final patch ({applied}) {verdict} with {proof.builder}:")
    out.append((proof.patch or "(empty: nothing to change)").rstrip("\n"))
    return "\n".join(out) + "\n"
