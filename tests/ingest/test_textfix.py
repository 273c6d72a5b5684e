"""Kerning-split words are rejoined; real words, panel letters and units are left alone."""
from collections import Counter

import pytest

from ingest.textfix import rejoin_split_words


@pytest.mark.parametrize("split, whole", [
    ("We ha v e constructed a strain", "We have constructed a strain"),
    ("in addition to pre viously kno wn RlmE", "in addition to previously known RlmE"),
    ("due t o the le v el of F r an ce", "due to the level of France"),
    ("o f the cells, a n d the", "of the cells, and the"),
    # a split after a hyphen (a corpus title: "... at the sub-g ene scale due to ...")
    ("at the sub-g ene scale", "at the sub-gene scale"),
    ("each cross-v alidation round", "each cross-validation round"),
])
def test_split_words_are_rejoined(split, whole):
    assert rejoin_split_words(split, Counter()) == whole


@pytest.mark.parametrize("text", [
    "as a new tool, a and B for panel C",
    "Fig. 2 b and c show the 3 h of incubation",
    "is a key step in a per cell way",
    "in a T-cell line, sent by e-mail, 2-b and c",  # the part before a hyphen never joins
    "基于可编程平台的标识网络",
])
def test_real_words_and_labels_are_kept(text):
    assert rejoin_split_words(text, Counter()) == text


def test_document_counts_admit_domain_words():
    counts = Counter({"rlmkl": 4})
    assert rejoin_split_words("RlmB and Rlm KL act", counts) == "RlmB and RlmKL act"
