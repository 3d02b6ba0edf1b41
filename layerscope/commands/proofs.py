"""A proof's figures in the suggestion report, this run's or an earlier one's: ``--prove`` builds
(``commands.prove``) and keeps the proof in the data directory (``store.proofs``); ``inspect
--dockerfile`` shows the kept proof of the same image, Dockerfile and patch."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from ..analysis.prove import Proof
    from ..analysis.suggest import SuggestionReport
    from ..analysis.suggest.model import PatchPaths
    from ..dockerfile import Dockerfile
    from .settings import ProveSettings


@dataclass(frozen=True, slots=True)
class ProofInputs:
    """What a proof is of: the image, the Dockerfile (text and path) and the context's
    .dockerignore, with the paths the patch names."""

    image_id: str
    dockerfile: Dockerfile
    dockerfile_path: str
    dockerignore: str | None
    paths: PatchPaths | None = None

    def key(self, report: SuggestionReport) -> str:
        from ..store.proofs import proof_key

        return proof_key(
            self.image_id, self.dockerfile.text, self.dockerignore, report.patched_files
        )


def prove_report(
    settings: ProveSettings, err: IO[str], report: SuggestionReport, inputs: ProofInputs
) -> tuple[SuggestionReport, Proof]:
    """Build and measure (``commands.prove``), keep the proof, fold its figures into the
    report. A proof that cannot be kept is said on ``err``; the figures are shown anyway."""
    from ..analysis.prove import apply_proof
    from ..errors import StoreError
    from ..render.json import dumps
    from ..render.prove import proof_document
    from ..store.proofs import save_proof
    from .prove import prove

    proof = prove(settings, err, report=report, dockerfile=inputs.dockerfile,
                  dockerfile_path=inputs.dockerfile_path, paths=inputs.paths)  # fmt: skip
    try:
        save_proof(inputs.key(report), dumps(proof_document(proof), indent=None))
    except StoreError as exc:
        print(f"layerscope: warning: {exc}", file=err)
    return apply_proof(report, proof), proof


def recall_proof(report: SuggestionReport, inputs: ProofInputs) -> SuggestionReport:
    """The report with the figures of an earlier proof of exactly this image, Dockerfile and
    patch (the report as it is when there is none, or it cannot be read)."""
    if not report.patched_files:
        return report
    from ..analysis.prove import apply_proof
    from ..render.prove import proof_from_document
    from ..store.proofs import load_proof

    kept = load_proof(inputs.key(report))
    if kept is None:
        return report
    text, when = kept
    try:
        proof = proof_from_document(json.loads(text), recorded_at=when)
    except (ValueError, KeyError, TypeError):
        return report
    by_id = {s.id: s for s in report.suggestions}
    if not set(proof.applied) <= set(by_id):
        return report
    if proof.dropped:  # the patch that built, named from here (the proof ran elsewhere)
        from dataclasses import replace

        from ..analysis.prove import compose_subset
        from ..analysis.suggest.compose import Files
        from ..analysis.suggest.model import PatchPaths

        where = inputs.paths or PatchPaths()
        files = Files(inputs.dockerfile, inputs.dockerignore, where.dockerfile, where.dockerignore)
        texts = compose_subset(files, by_id, list(proof.applied))
        proof = replace(proof, patch=texts.patch if texts is not None else None)
    return apply_proof(report, proof)
