"""The server's warm-up (assistant.api.warm_up) with the real MiniLM: it embeds the passages'
sentences for the answer scorer and, with the time left, at full precision for re-scoring
near-ties, and keeps both for the next start."""
from __future__ import annotations

from assistant.api import sentence_vectors_path, warm_up
from assistant.sentence_cache import SentenceCache
from assistant.service import Souwen
from assistant.settings import Settings
from tests.pdfmaker import make_paper

PARAGRAPHS = {
    "Abstract": ["Drought stress limits wheat yield. We show that the DANA1 gene promotes drought tolerance."],
    "Results": ["Survival after twelve days of drought was 80% in the overexpressing lines and 20% in the "
                "knockout mutants. Stomatal density decreased by a third in the overexpressing lines."],
}


def test_warm_up_primes_both_sentence_caches_and_keeps_them(tmp_path, minilm):
    pdf = make_paper(tmp_path / "dana.pdf", title="DANA1 and drought", doi="10.1234/dana.1", sections=PARAGRAPHS,
                     figure=False)
    service = Souwen(Settings(library=tmp_path / "lib"), embedder=minilm)
    try:
        assert service.ingest([pdf], workers=0).count("added") == 1
        assert warm_up(service) == ""
        full, _ = service.answerer.rescorer
        saved = [sentence_vectors_path(service.library, e) for e in (minilm, full)]
        assert saved[0] != saved[1]  # int8 and fp32 vectors never mix
        counts = [SentenceCache().load(path) for path in saved]
        assert counts[0] > 0 and counts[0] == counts[1]  # every English sentence, at both precisions
    finally:
        service.close()
