"""``suggest --prove`` results as text and as the ``proof`` object of the suggest JSON."""

from __future__ import annotations

from typing import Any

from ..analysis.prove import CacheRun, Proof, relative_error
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
    }
    if proof.cache is not None:
        doc["cache_experiment"] = {
            "touched": proof.cache.touched,
            "original": _run_doc(proof.cache.original),
            "patched": _run_doc(proof.cache.patched),
        }
    return doc


def render_proof_text(proof: Proof) -> str:
    """The proof section printed after the suggestions."""
    out = ["", f"Proof: built the original and the patched Dockerfile ({proof.builder})"]
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
