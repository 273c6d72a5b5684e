"""Chunking: token limits hold (real MiniLM tokenizer), sections and pages are kept, overlap works."""
from __future__ import annotations

import re

import pytest

from assistant.types import PaperMetadata, ParsedPaper, TableText, TextBlock
from ingest.chunking import chunk_paper, split_sentences


def _paper(blocks, tables=()) -> ParsedPaper:
    return ParsedPaper(sha256="ab" * 32, source_path="x.pdf", page_count=3, metadata=PaperMetadata(),
                       blocks=tuple(blocks), tables=tuple(tables))


def count_words(texts):
    return [len(t.split()) or len(t) for t in texts]


def test_split_sentences_keeps_abbreviations_and_splits_chinese():
    text = "As shown in Fig. 3 the rate rose. Smith et al. (2020) disagree! 结果如图3所示。第二句？"
    parts = [text[a:b] for a, b in split_sentences(text)]
    assert parts == ["As shown in Fig. 3 the rate rose.", "Smith et al. (2020) disagree!", "结果如图3所示。", "第二句？"]


def test_an_ascii_full_stop_between_chinese_characters_ends_a_sentence():
    """Some Chinese journals print "." for "。" ("…的方法.目前…"); such a paper's "sentences" ran to
    the token limit and its chunks were cut in mid-sentence. A decimal point or an English
    abbreviation is not a sentence end."""
    text = "本文提出了一种度量方法.目前的研究尚处于起步阶段.准确率为95.5%，优于Fig.3所示的方法。"
    parts = [text[a:b] for a, b in split_sentences(text)]
    assert parts == ["本文提出了一种度量方法.", "目前的研究尚处于起步阶段.", "准确率为95.5%，优于Fig.3所示的方法。"]


def test_an_ascii_full_stop_after_latin_text_ends_a_sentence_before_chinese():
    """"…方法HMM.该方法…", "…[12].本文…", "…req/s.在…": the stop ends the sentence when Chinese
    follows; after an abbreviation ("et al.") it does not."""
    text = "本文设计了度量方法HMM.该方法兼顾算力.其重要性已有研究[12].本文采用Smith et al.提出的模型,达到1700 req/s.在此基础上"
    parts = [text[a:b] for a, b in split_sentences(text)]
    assert parts == ["本文设计了度量方法HMM.", "该方法兼顾算力.", "其重要性已有研究[12].",
                     "本文采用Smith et al.提出的模型,达到1700 req/s.", "在此基础上"]


def test_a_full_width_semicolon_between_english_words_ends_no_sentence():
    """Chinese journals' English abstracts print "；" between list items: each item was a "sentence"
    of its own ("improving data transmission efficiency；"). Between Chinese clauses it still cuts."""
    text = ("Three challenges were analyzed: enhancing interconnectivity； improving efficiency； and "
            "strengthening availability. 提升互联能力；提高传输效率。Keywords: network； cluster； Next one.")
    parts = [text[a:b] for a, b in split_sentences(text)]
    assert parts == ["Three challenges were analyzed: enhancing interconnectivity； improving efficiency； and "
                     "strengthening availability.", "提升互联能力；", "提高传输效率。", "Keywords: network； cluster；",
                     "Next one."]


def test_footnotes_are_one_per_line_in_their_chunk():
    """Footnotes rarely end with a full stop: joined by spaces, "∗denotes equal contribution" and
    "1 Instructions for access …" were quoted as one sentence."""
    blocks = [TextBlock(1, "Body text of the paper says something long enough here.", "Introduction"),
              TextBlock(1, "∗denotes equal contribution", "Introduction", kind="footnote"),
              TextBlock(1, "1 Instructions for access are at https://github.com/allenai/s2orc/.", "Introduction",
                        kind="footnote"),
              TextBlock(1, "2 https://arxiv.org", "Introduction", kind="footnote")]
    chunks = chunk_paper(_paper(blocks), "p1", count_words, max_tokens=256, target_tokens=200, overlap_tokens=20)
    note = [c for c in chunks if c.kind == "footnote"]
    assert len(note) == 1 and note[0].text.split("\n") == [b.text for b in blocks[1:]]
    assert [note[0].text[a:b] for a, b in split_sentences(note[0].text)] == [b.text for b in blocks[1:]]


def test_chunks_respect_limit_sections_pages_and_overlap():
    sentence = "The enzyme activity increased sharply under drought stress conditions today."
    blocks = [TextBlock(1, " ".join([sentence] * 12), "Introduction"),
              TextBlock(2, " ".join([sentence] * 12), "Introduction"),
              TextBlock(3, "Short methods paragraph here.", "Methods")]
    chunks = chunk_paper(_paper(blocks), "p1", count_words, max_tokens=60, target_tokens=40, overlap_tokens=12)
    assert all(len(c.text.split()) <= 60 for c in chunks)
    assert chunks[-1].section == "Methods" and chunks[-1].text == "Short methods paragraph here."
    intro = [c for c in chunks if c.section == "Introduction"]
    assert intro[0].page_start == 1 and intro[-1].page_end == 2
    # overlap: each intro chunk after the first starts with the previous chunk's last sentence
    assert all(b.text.startswith(sentence) and a.text.endswith(sentence) for a, b in zip(intro, intro[1:]))
    assert [c.ordinal for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    # offsets point into the blocks joined by blank lines
    body = "\n\n".join(b.text for b in blocks)
    assert body[chunks[-1].char_start:chunks[-1].char_end] == "Short methods paragraph here."


def test_a_chinese_sentence_longer_than_the_overlap_is_carried_into_the_next_chunk():
    """Each Chinese character is a word-piece, so a Chinese sentence rarely fits the overlap: the
    next chunk opened "这类机制虽然……" without the sentence 这类 refers to. The last sentence is
    carried when it is at most twice the overlap; an English one of that size still is not."""
    zh = ["第二类机制通过属性加密技术和身份加密技术保障数据访问控制。", "这类机制虽然不需要可靠连接但却存在初始化开销大的问题。",
          "第三类机制基于秘密共享机制保障离线下的数据访问控制能力。", "在上述机制中消费者需要保存不同内容生产者分发的秘密份额。"]
    assert all(20 < n <= 40 for n in count_pieces(zh))
    chunks = chunk_paper(_paper([TextBlock(1, "".join(zh), "引言")]), "p1", count_pieces, max_tokens=100,
                         target_tokens=80, overlap_tokens=20)
    assert len(chunks) >= 2 and all(len(c.text) <= 100 for c in chunks)
    assert all(b.text.startswith(split_tail(a.text)) for a, b in zip(chunks, chunks[1:]))
    assert any(c.text.startswith("第二类机制") and "这类机制虽然" in c.text for c in chunks)
    en = " ".join(f"Sentence {i} has " + " ".join(["many"] * 22) + " words." for i in range(4))
    chunks = chunk_paper(_paper([TextBlock(1, en, "Introduction")]), "p1", count_pieces, max_tokens=100,
                         target_tokens=80, overlap_tokens=20)
    assert len(chunks) >= 2 and not any(b.text.startswith(split_tail(a.text)) for a, b in zip(chunks, chunks[1:]))


def count_pieces(texts):
    """Word-pieces as MiniLM counts them, roughly: one per Chinese character, one per Latin word."""
    return [len(re.findall(r"[\u3400-\u9fff]|[A-Za-z0-9]+", t)) for t in texts]


def split_tail(text: str) -> str:
    """The last sentence of `text`."""
    start, end = split_sentences(text)[-1]
    return text[start:end]


def test_overlong_sentence_and_table_are_split_under_limit():
    long_sentence = " ".join(f"word{i}" for i in range(500))
    table = TableText(page=2, bbox=(0, 0, 1, 1), text="| a | b |\n| 1 | 2 |", label="Table 1", caption="Table 1 Yields")
    chunks = chunk_paper(_paper([TextBlock(1, long_sentence, "Results")], [table]), "p1", count_words,
                         max_tokens=100, target_tokens=80, overlap_tokens=0)
    body = [c for c in chunks if c.kind == "body"]
    assert len(body) == 5 and all(len(c.text.split()) <= 100 for c in body)
    assert " ".join(c.text for c in body) == long_sentence  # nothing lost
    tables = [c for c in chunks if c.kind == "table"]
    assert tables and tables[0].page_start == 2 and "Yields" in tables[0].text


def test_a_sentence_cut_by_a_page_break_is_one_sentence_again():
    """A page (or column) break in mid-sentence, with a figure caption printed between the halves:
    no chunk ends on the dangling "The", and the sentence is whole in one chunk spanning both pages."""
    blocks = [TextBlock(1, "The structures were aligned by their cores. The", "Results"),
              TextBlock(1, "Figure 2. Aligned structures of the two complexes.", "Results", "caption"),
              TextBlock(2, "contacts between atoms were counted within 4 A. We then compared the regu-", "Results"),
              TextBlock(2, "lation of both genes. Expression rose twofold.", "Results"),
              TextBlock(2, "A new paragraph starts here.", "Results"),
              TextBlock(3, "Discussion", "Discussion", "heading"),
              TextBlock(3, "lower-case start after a heading stays apart.", "Discussion")]
    chunks = chunk_paper(_paper(blocks), "p1", count_words, max_tokens=60, target_tokens=14, overlap_tokens=0)
    texts = [c.text for c in chunks]
    assert not any(t.endswith(" The") or t.startswith("contacts") for t in texts)
    whole = next(c for c in chunks if "The contacts between atoms were counted within 4 A." in c.text)
    assert whole.page_start == 1 and whole.page_end == 2
    assert any("compared the regulation of both genes." in t for t in texts)  # the hyphen repaired
    assert any(t.startswith("Figure 2.") for t in texts)  # the caption kept as it was
    assert "A new paragraph starts here." in " ".join(texts) and chunks[-1].text.startswith("lower-case start")


def test_a_short_block_left_open_ends_its_line_in_the_chunk():
    """A byline's line ("3 & Meng Li 1,2") has no full stop: joined by a space, it and the abstract's
    first sentence were quoted as one sentence. A long block cut at a page break still runs on."""
    from assistant.sentence_cache import split_passage

    blocks = [TextBlock(1, "Check for updates", "Title"),
              TextBlock(1, "3 & Meng Li 1,2", "Title"),
              TextBlock(1, "The archaeal ancestor of eukaryotes apparently belonged to the phylum Asgardarchaeota.", "Title"),
              TextBlock(1, "Previously, kinetic studies have shown that the ribosomes of the strain show no defect at", "Title"),
              TextBlock(2, "37 C, while they translocate 20% slower than wild-type ribosomes.", "Title")]
    chunks = chunk_paper(_paper(blocks), "p1", count_words, max_tokens=256, target_tokens=200, overlap_tokens=0)
    assert len(chunks) == 1
    sentences = split_passage(chunks[0].text)
    assert "The archaeal ancestor of eukaryotes apparently belonged to the phylum Asgardarchaeota." in sentences
    assert any(s.startswith("Previously, kinetic studies") and s.endswith("slower than wild-type ribosomes.") for s in sentences)


def test_a_lists_items_are_sentences_of_their_own():
    """Cell's highlights are a list without full stops: joined by spaces, the four items were one
    "sentence" that a summary quoted whole ("d BdDV-1 is a novel DNA virus ... d BdDV-1 is ...")."""
    from assistant.sentence_cache import split_passage

    items = ["• BdDV-1 is a novel DNA virus of the amphibian pathogen Batrachochytrium dendrobatidis",
             "• BdDV-1 is endogenous in the genome but absent from global panzootic lineage strains",
             "• Strains with endogenized virus have reduced in vitro growth but increased virulence"]
    chunks = chunk_paper(_paper([TextBlock(1, t, "Highlights") for t in items]), "p1", count_words, max_tokens=256,
                         target_tokens=200, overlap_tokens=0)
    assert split_passage(chunks[0].text) == items


def test_corpus_cell_highlights_are_a_list(shared_corpus):
    from ingest.parse import parse_pdf

    folder = shared_corpus[0]
    highlights = [b.text for b in parse_pdf(folder / "paper-23.pdf").blocks if b.section == "Highlights" and b.kind == "body"]
    assert highlights[0] == "• BdDV-1 is a novel DNA virus of the amphibian pathogen Batrachochytrium dendrobatidis"
    springer = parse_pdf(folder / "paper-27.pdf").blocks  # an asterisk in Wingdings is a footnote's mark, no bullet
    assert any(b.kind == "footnote" and b.text.startswith("* Frances M. Ashcroft") for b in springer)


@pytest.mark.slow
def test_real_tokenizer_never_exceeds_minilm_window(minilm):
    text = ("Mutation rates vary at the sub-gene scale because local DNA hypermutability differs "
            "between neighbouring sites, as the fluctuation assays demonstrate. ") * 40
    blocks = [TextBlock(1, text, "Results"), TextBlock(2, "在基于P4可编程交换机的标识网络原型中，平均切换时延为55 ms。" * 30, "实验")]
    max_tokens = minilm.max_tokens
    chunks = chunk_paper(_paper(blocks), "p1", minilm.count_tokens, max_tokens=max_tokens, target_tokens=160, overlap_tokens=32)
    sizes = minilm.count_tokens([c.text for c in chunks])
    assert max(sizes) <= max_tokens <= 256
    assert {c.section for c in chunks} == {"Results", "实验"}
    assert all("\u3000" not in c.text for c in chunks)
