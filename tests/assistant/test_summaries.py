"""Pieces of the extractive reports that need no corpus: the authors' keyword line, the sentence
pool (abstract sentences, overlap fragments) and the overview."""
from __future__ import annotations

import numpy as np

from assistant.summaries import author_claims, keyword_line, overview, paper_sentences
from assistant.types import Chunk, Paper


def chunk(text: str, section: str = "Keywords", kind: str = "body") -> Chunk:
    return Chunk(id=f"c-{len(text)}", paper_id="p1", ordinal=0, text=text, section=section, page_start=1,
                 page_end=1, char_start=0, char_end=len(text), kind=kind)


def paper(*keywords: str) -> Paper:
    return Paper(id="p1", doi="10.1/x", title="T", authors=(), year=2024, pages=1, lang="en", keywords=keywords)


def test_keyword_line_quotes_the_printed_list_and_stops_at_its_last_keyword():
    printed = chunk("Keywords: RNA editing; C. elegans; innate immunity Introduction Double-stranded RNA is ...")
    line = keyword_line(paper("RNA editing", "C. elegans", "innate immunity"), [chunk("Abstract text that mentions RNA editing.", "Abstract"), printed])
    assert line is not None and line.text == "RNA editing; C. elegans; innate immunity"
    assert line.text in printed.text and line.hit.chunk is printed  # a verbatim, citable quote


def test_keyword_line_is_none_without_keywords_or_their_printed_list():
    printed = chunk("关键词：算力网络；算力度量；混合式度量方法中图法分类号 TP391")
    assert keyword_line(paper(), [printed]) is None
    assert keyword_line(paper("算力网络", "算力度量", "混合式度量方法"), [printed]).text == "算力网络；算力度量；混合式度量方法"
    assert keyword_line(paper("graphs", "networks"), [printed]) is None


def test_sentence_pool_marks_abstract_sentences_and_skips_overlap_fragments():
    abstract = "Drought stress limits crop yield worldwide in many regions. We show that DANA1 promotes drought tolerance."
    first = chunk(abstract + " Plants were grown in soil for four weeks before the drought treatment began.", "Abstract")
    # the next chunk overlaps the first and starts in the middle of its last sentence
    second = chunk("for four weeks before the drought treatment began. Survival rates were measured after rewatering them.",
                   "Results")
    pool = paper_sentences(Paper(id="p1", doi="10.1/x", title="T", authors=(), year=2024, pages=1, lang="en",
                                 abstract=abstract), [first, second])
    texts = [s.text for s in pool]
    assert "for four weeks before the drought treatment began." not in texts
    assert texts[-1].startswith("Survival rates")
    assert [s.abstract for s in pool] == [True, True, False, False]
    chosen = overview(pool, np.array([0.2, 0.9, 1.0, 1.0]), set())
    assert [s.text for s in chosen] == texts[:2]  # abstract sentences only, in the abstract's order
    assert overview(pool[2:], np.array([1.0, 1.0]), set()) == []  # no abstract found: no overview


def test_author_claims_mark_the_abstract_and_the_conclusions():
    abstract = "We show that DANA1 promotes drought tolerance in plants grown in soil."
    pool = paper_sentences(Paper(id="p1", doi="10.1/x", title="T", authors=(), year=2024, pages=1, lang="en",
                                 abstract=abstract),
                           [chunk(abstract, "Abstract"), chunk("Seeds were sown on plates with half-strength medium.", "Methods"),
                            chunk("DANA1 is therefore a positive regulator of drought tolerance.", "5. Conclusions"),
                            chunk("综上所述，本文提出的先静后动的混合式度量方法在实验中显著提高了算力节点与用户任务之间的匹配准确率。", "5 结论")])
    assert list(author_claims(pool)) == [1.0, 0.0, 0.5, 0.5]


def test_a_subsection_is_read_as_part_of_its_main_section():
    """A subheading alone ("Knockout of PWWP3 ...", "3.2 性能评估") does not say that its text is
    results: the summary's facets look for the main section's name."""
    chunks = [chunk("Drought limits the yield of crops grown in many regions of the world.", "Introduction"),
              chunk("Mutant plants wilted two days earlier than the wild type under drought.", "Results"),
              chunk("Knockout plants survived drought at a rate of 20 percent after rewatering.",
                    "Knockout of PWWP3 attenuates drought tolerance"),
              chunk("Seeds were sown on plates with half-strength medium for ten days.", "Methods"),
              chunk("Leaves were weighed at noon on each of the fourteen days of treatment.", "Leaf water loss"),
              chunk("We thank the greenhouse staff for their help with the plants.", "Acknowledgements"),
              chunk("The stored data are listed in a table that the supplement gives in full.", "Data availability")]
    pool = paper_sentences(paper(), chunks)
    assert [s.section for s in pool] == ["Introduction", "Results", "Results › Knockout of PWWP3 attenuates drought tolerance",
                                         "Methods", "Methods › Leaf water loss"]


def test_key_terms_are_the_papers_distinctive_terms_in_several_sentences():
    from assistant.lexical import tokenize
    from assistant.summaries import PaperSentence, key_terms
    from assistant.types import ScoredChunk

    texts = ["Acinetobacter lwoffii carries fewer efflux pumps than the other species studied here.",
             "Efflux pumps of A. lwoffii were counted in every genome of the collection.",
             "The lwoffii genomes hold few efflux genes and the study reports 2024 counts.",
             "University of California, San Francisco hosted the work (T.Y.J. and J.E.S.).",
             "The study counted the genomes in the collection and the study reports them."]
    hit = ScoredChunk(chunk(" ".join(texts), "Results"), paper(), 0.0)
    pool = [PaperSentence(hit, t, frozenset(tokenize(t)), "Results", i / 5) for i, t in enumerate(texts)]
    rare = {"lwoffii": 5.0, "efflux": 4.0, "francisco": 6.0, "t.y.j": 7.0}  # everyday words weigh 1
    terms = key_terms(pool, lambda ts: {t: rare.get(t, 1.0) for t in ts}, n=3)
    assert terms[:2] == ["lwoffii", "efflux"]  # in three sentences each, rare in the library
    assert not {"francisco", "t.y.j", "2024"} & set(terms)  # one sentence, initials, a number


def test_sentence_pool_leaves_out_the_byline_under_the_title():
    """A preprint's byline and affiliations sit under its title before any heading: they are no
    summary material (and "UCSF, San Francisco" became a key term), while an abstract printed there
    stays in."""
    abstract = "Here we engineer T cells that produce their own cytokine within immune-excluded tumors."
    front = chunk("Greg M. Allen1,2, Nicholas W. Frankel2,3 and Wendell A. Lim2,3. 2Cell Design Institute; UCSF, "
                  "San Francisco, United States. " + abstract, "T")
    body = chunk("The circuit drove infiltration of the tumors by the engineered T cells in several models.", "Results")
    pool = paper_sentences(Paper(id="p1", doi="10.1/x", title="T", authors=(), year=2024, pages=1, lang="en",
                                 abstract=abstract), [front, body])
    texts = [s.text for s in pool]
    assert abstract in texts and any(t.startswith("The circuit drove") for t in texts)
    assert not any("Allen" in t or "Francisco" in t for t in texts), texts


def test_a_stated_limitation_outweighs_a_sentence_that_only_turns():
    """"However, ..." in the methods is not a limitation, nor "include, but are not limited to"; a
    sentence that states one ("A limitation of ...", "Future studies are needed ...") is."""
    from assistant.lexical import tokenize
    from assistant.summaries import PaperSentence, facet_scores

    texts = ["However, instead of flooding with liquid media, plates were flooded with sterile water.",
             "Other styles include, but are not limited to, bracket-style numbers.",
             "A limitation of short-read sequencing is that some mutations may have been missed.",
             "Future studies are needed to identify the patients who will benefit.",
             "有待进一步研究的是节点移动速度对时延的影响。"]
    pool = [PaperSentence(None, t, frozenset(tokenize(t)), "Results", 0.5) for t in texts]
    scores = facet_scores(pool, "limitations")
    assert scores[2] > scores[0] and scores[3] > scores[0] and scores[4] > scores[0]
    assert scores[1] == scores[0]  # a weak cue, like "however"


def test_limitations_come_only_from_sentences_that_state_one():
    """A paper that states no limitation gets no "Limitations" part (it had been filled with the best
    of whatever was left: a result, a design summary); one that states one gets it."""
    from assistant.lexical import tokenize
    from assistant.summaries import PaperSentence, facet_picks

    def pool(*texts):
        return [PaperSentence(None, t, frozenset(tokenize(t)), "Discussion", (i + 1) / len(texts))
                for i, t in enumerate(texts)]

    plain = pool("1H NMR (300 MHz, CDCl3): 7.27-7.16 (12H, m, Ar-H), 4.97 (2H, s) were recorded for compound 5.",
                 "The inhibitor binds the N-domain of ACE with high selectivity over the C-domain.")
    assert facet_picks(plain, np.ones(len(plain)), "limitations", 1, set()) == []
    stated = pool(*[s.text for s in plain], "A limitation of this study is that only one species was tested.")
    picked = facet_picks(stated, np.array([1.0, 1.0, 0.2]), "limitations", 1, set())
    assert [s.text for s in picked] == [stated[2].text]
    # a Chinese paper's outlook, not "局限性" said of earlier work nor "进一步提高" (improves further)
    zh = pool("可编程交换平台为打破当前网络设备封闭的局限性带来希望。", "缓存更多的内容,进一步提高内容的利用率。")
    assert facet_picks(zh, np.ones(2), "limitations", 1, set()) == []
    zh = pool(*[s.text for s in zh], "下一步将研究节点移动速度对时延的影响。")
    assert [s.text for s in facet_picks(zh, np.ones(3), "limitations", 1, set())] == [zh[2].text]
    # the other facets still pick by salience and cues alone
    assert len(facet_picks(plain, np.ones(len(plain)), "methods", 1, set())) == 1


def test_a_destination_is_not_an_aim():
    """目的 is "purpose" and also "destination" (目的AID, 目的地址): a routing step is no aim."""
    from assistant.lexical import tokenize
    from assistant.summaries import PaperSentence, facet_scores

    texts = ["当收到映射查询请求，会根据请求中的目的AID 向映射服务器查询对应的RID 映射关系。",
             "本研究的目的是为标识网络设计一种可在现网部署的移动性管理机制。"]
    sentences = [PaperSentence(None, t, frozenset(tokenize(t)), "方法", 0.5) for t in texts]
    routing, aim = facet_scores(sentences, "aim")
    assert aim > routing
