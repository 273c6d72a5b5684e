"""A reference list printed without a heading (PNAS) is set apart from the body text."""
from __future__ import annotations

import pymupdf

from assistant.types import TextBlock
from ingest.layout import extract_blocks
from ingest.references import count_marks, divert_unheaded_references, is_reference_block, split_entries

ENTRIES = [
    "1. R. T. Abraham, Cell cycle checkpoint signaling through the ATM and ATR kinases.",
    "Genes Dev. 15, 2177-2196 (2001). 2. S. Ahmed et al., Natural products in cancer.",
    "Biomed. Pharmacother. 155, 113797 (2022). 3. I. Magdalou, B. S. Lopez, The causes of",
    "replication stress. Nucleic Acids Res. 50, 11600-11618 (2022). 4. K. Cong et al.,",
    "Replication gaps are a key determinant of PARP inhibitor lethality. Mol. Cell 81, 3128-3144 (2021).",
    "5. J. Rudolph, K. Luger, PARP1 searches DNA via a monkey bar mechanism. Elife 7, e37818 (2018).",
    "6. X. Wang, X. Xu, Z. Wang, The role of UFMylation in disease. Cells 12, 2543 (2023).",
]
PROSE = ["PARP1 is activated by oxidative DNA damage to recruit repair enzymes (39, 48, 52), and it",
         "helps to regulate replication fork speed, as shown before (Smith et al., 2019)."]


def test_an_unheaded_numbered_list_goes_to_the_references(pdf):
    """PNAS prints its list after the acknowledgements with no heading, in small type, in short
    runs: it was read as body text and quoted as findings."""
    pdf.new_page()
    pdf.line(60, 60, "Discussion", 12, "hebo")
    y = pdf.column(60, 80, PROSE)
    y = pdf.column(60, y + 20, ["ACKNOWLEDGMENTS. We thank the members of the lab for discussions."])
    for i in range(0, len(ENTRIES), 2):  # paragraph gaps: the list comes out as several blocks
        y = pdf.column(60, y + 16, ENTRIES[i:i + 2], 7, 9)
    with pymupdf.open(pdf.save()) as doc:
        blocks, refs, _ = extract_blocks(doc)
    body = " ".join(b.text for b in blocks)
    assert "oxidative DNA damage" in body and "We thank the members" in body
    assert "Abraham" not in body and "Genes Dev." not in body and "UFMylation" not in body
    assert refs[0].startswith("1. R. T. Abraham") and refs[-1].startswith("6. X. Wang")
    assert len(refs) == 6


def test_prose_that_cites_stays_body_text():
    prose = TextBlock(page=1, text=" ".join(PROSE), section="Discussion", kind="body")
    assert count_marks(prose.text).total == 0
    # a methods paragraph naming two datasets' papers by journal, volume and pages opens no entry
    datasets = TextBlock(page=2, text="Somatic mutations were compiled from published tumour series "
                         "(Nature 578, 82–93 (2020); Cell 173, 291–304 (2018)) and filtered for quality, "
                         "keeping calls supported by at least four reads in both the tumour and the normal "
                         "sample, and removing known germline variants with a population frequency above "
                         "one percent in any of the reference panels used by the consortium.", section="Methods")
    assert count_marks(datasets.text).tails == 2 and not is_reference_block(datasets)
    entry = TextBlock(page=9, text=" ".join(ENTRIES[:2]), section="Discussion")
    assert is_reference_block(entry)
    # one stray block of citations is not a reference list
    kept, refs = divert_unheaded_references([prose, entry], [])
    assert kept == [prose, entry] and refs == []


def test_split_entries_cuts_at_each_number():
    assert split_entries("Cell 1, 2-3 (2001). 7. A. B. Name, Title. J. 2, 3 (2002). 8. C. Other et al., T.") == [
        "Cell 1, 2-3 (2001).", "7. A. B. Name, Title. J. 2, 3 (2002).", "8. C. Other et al., T."]


def test_corpus_pnas_reference_list_is_not_body_text(shared_corpus):
    folder, _ = shared_corpus
    with pymupdf.open(folder / "paper-06.pdf") as doc:  # PNAS, no "References" heading
        blocks, refs, _ = extract_blocks(doc)
    assert not any("Rickman" in b.text or "Genes Dev. 15" in b.text for b in blocks)
    assert any("Rickman" in r for r in refs) and len(refs) >= 45
    assert any("iPOND was used for isolation of proteins" in b.text for b in blocks)
