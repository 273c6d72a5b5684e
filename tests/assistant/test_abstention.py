"""Evidence strength for the abstention decision (assistant.abstention.measure_evidence): one paper
must cover a question, except a question about several papers, which the papers cover together.
Real SQLite, FAISS and bm25s with the hashing embedder."""
from __future__ import annotations

from dataclasses import replace

from assistant import abstention
from assistant.abstention import _common_terms, content_concepts, load_model, measure_evidence
from assistant.lexical import dictionary_words, function_words, phrasing_words, tokenize
from assistant.question_focus import derived_in, question_focus
from assistant.retrieval import retrieve_per_paper
from assistant.settings import RetrievalSettings
from tests.minilib import paper, store

QUESTION = "Which papers measured frog mortality after chytrid virus infection and nematode survival on bacteria?"


def strength(lib, hashing, several):
    hits = retrieve_per_paper(lib, hashing, QUESTION, RetrievalSettings(), k=6)
    terms = [set(h.chunk.text.lower().split()) for h in hits]
    index = lib.indexes().lexical
    return measure_evidence(QUESTION, hits, terms, 0.5, lib.paper_terms, index.idf, 1.0, index,
                            several=several)


def test_papers_cover_a_several_paper_question_together(lib, hashing):
    store(lib, hashing, paper("frog", "en", ["Frog mortality rose after chytrid virus infection in the assay.",
                                             "Zoospore loads were lower at death in infected frogs."]))
    store(lib, hashing, paper("worm", "en", ["Nematode survival on bacteria was shorter without editing enzymes.",
                                             "Worms lacking both deaminases died sooner on pathogenic bacteria."]))
    alone, together = strength(lib, hashing, False), strength(lib, hashing, True)
    assert alone.coverage < 0.7, "each paper covers only its half of the question"
    assert together.coverage > alone.coverage + 0.25
    assert together.paper_id == alone.paper_id  # the best single paper is still the one named


def test_everyday_words_are_told_from_specific_ones():
    common = _common_terms("Which glycemic index was chosen, and did it appear in Drosophila neurons of 30-day-old flies?")
    assert {"chosen", "appear"} <= common  # phrasing: stems of whole words of the general vocabulary
    assert not common & {"glycem", "drosophila", "30"}  # split into word-pieces, or digits: specific


def test_a_missing_specific_word_weighs_more_than_a_missing_everyday_word(lib, hashing):
    """Both missing words are unseen in the library (the same IDF): only their kind differs."""
    store(lib, hashing, paper("frog", "en", ["Chytrid zoospore infection killed tadpoles in the assay.",
                                             "Tadpoles exposed to zoospores died within two weeks."]))
    store(lib, hashing, paper("worm", "en", ["Nematode survival on bacteria was shorter without editing enzymes."]))
    phrasing = _coverage(lib, hashing, "Which assay showed that chytrid zoospore infection eventually killed tadpoles?", 6)
    specific = _coverage(lib, hashing, "Which assay showed that chytrid zoospore infection killed axolotl tadpoles?", 6)
    assert 0.8 < phrasing < 1.0 and specific < phrasing - 0.1


def test_chinese_function_words_weigh_like_everyday_english_words(lib, hashing, monkeypatch):
    """"这篇", "里", "最多能", "几倍" are nowhere in the library, as a specific word may be; jieba tags
    them as function words, so they weigh COMMON_WEIGHT, not the full IDF of an unseen word."""
    store(lib, hashing, paper("ndn", "zh", ["原型系统测得的流表下发时延均值在4.8毫秒左右，控制器处理时延更短。",
                                            "终端采用全局唯一的接入标识表示身份信息。"]))
    store(lib, hashing, paper("frog", "en", ["Frog mortality rose after chytrid virus infection in the assay."]))
    assert {"这篇", "里", "最多能", "几倍"} <= function_words("在这篇论文的原型里，最多能快几倍？")
    assert not function_words("流表下发时延") & {"流表", "下发", "时延"}
    # jieba's dictionary tags "这是" a verb: a word of function characters alone is one all the same
    assert "这是" in function_words("时间逐渐缩短，这是什么原因？")
    assert not function_words("时间逐渐缩短") & {"时间", "缩短"}
    phrasing = "这篇论文的原型系统里，流表下发时延最多能达到多少毫秒？"
    specific = "这篇论文的原型系统里，流表下发时延在雄安试点中达到多少毫秒？"  # 雄安: a place, not in the paper
    covered = _coverage(lib, hashing, phrasing, 4)
    assert _coverage(lib, hashing, specific, 4) < covered - 0.1
    monkeypatch.setattr(abstention, "phrasing_words", lambda text: set())
    assert covered > _coverage(lib, hashing, phrasing, 4) + 0.1  # at full IDF, 这篇 / 里 / 最多能 sank it


def test_chinese_verbs_phrase_a_question_and_its_nouns_name_the_topic(lib, hashing, monkeypatch):
    """"用来" and "占" are nowhere in the paper (it says "采用128位"): verbs weigh COMMON_WEIGHT,
    while a noun it lacks ("端口", a port) still weighs its full IDF."""
    words = phrasing_words("终端用来表示身份的AID占多少位？")
    assert {"用来", "占"} <= words and not words & {"终端", "身份", "AID", "aid"}
    assert "管理" not in phrasing_words("移动性管理机制")  # a verbal noun names the topic
    store(lib, hashing, paper("ndn", "zh", ["接入网中的终端采用128位全局唯一的接入标识AID表示身份信息。",
                                            "原型系统测得的流表下发时延均值在4.8毫秒左右。"]))
    store(lib, hashing, paper("frog", "en", ["Frog mortality rose after chytrid virus infection in the assay."]))
    asked = "接入网中的终端用来表示身份的AID占多少位？"
    covered = _coverage(lib, hashing, asked, 4)
    assert _coverage(lib, hashing, "接入网中的终端用来表示身份的AID端口占多少位？", 4) < covered - 0.1
    monkeypatch.setattr(abstention, "phrasing_words", function_words)
    assert covered > _coverage(lib, hashing, asked, 4) + 0.1  # at full IDF, 用来 / 占 sank it


def test_a_word_jieba_made_up_across_the_questions_own_word_boundary_is_judged_by_its_dictionary_words(
        lib, hashing, monkeypatch):
    """"用数据集来评估" gives jieba's guess "集来": no paper holds it, and at the largest IDF it sank
    a question the paper answers; cut into dictionary words it is judged as "集" and "来". A dictionary
    word no paper holds ("郑和", a person) still counts as missing."""
    assert dictionary_words("集来") == ["集", "来"] and dictionary_words("郑和") == ["郑和"]
    store(lib, hashing, paper("ndn", "zh", ["实验用服务器性能数据集评估方法，共有1000个节点。"]))
    # "集" and "来" are everyday characters, standing alone in other papers
    for name in ("news", "town"):
        store(lib, hashing, paper(name, "zh", ["每周一集来访的客人在集上看戏，来年再来。"]))
    asked = "实验用服务器性能数据集来评估方法时共有多少个节点？"
    assert "集来" in tokenize(asked)
    covered = _coverage(lib, hashing, asked, 4)
    assert _coverage(lib, hashing, "实验用服务器性能数据集评估郑和方法时共有多少个节点？", 4) < covered - 0.1
    monkeypatch.setattr(abstention, "dictionary_words", lambda word: [word])
    assert covered > _coverage(lib, hashing, asked, 4) + 0.05  # "集来" kept: missing at the largest IDF


def test_words_naming_the_kind_of_answer_are_not_content():
    """The paper says "90.4%", not "fraction": words that name the answer's kind are phrasing."""
    for question in ("What fraction of the corpus has an abstract?", "What percentage of the corpus has an abstract?",
                     "What share of the corpus has an abstract?"):
        assert [t for t, _ in content_concepts(question)] == ["corpus", "abstract"], question


def test_a_question_word_finds_its_derived_forms():
    """The stemmer keeps "grow" and "growth" apart; the paper's "growth" covers the question's "grow"."""
    assert derived_in("grow", {"growth", "strain"}) and derived_in("slow", {"slowli"})
    assert not derived_in("grow", {"groundwat"}) and not derived_in("ten", {"tenth"})  # too short to extend


def test_a_chinese_term_and_its_bracketed_latin_name_are_one_concept():
    concepts = dict(content_concepts("拟南芥dana1突变体中的脱落酸（ABA）含量与野生型相比有何变化？"))
    assert "脱落酸" not in concepts and {"aba", "脱落酸", "abscis"} <= concepts["aba"]
    assert "含量" in concepts and "aba" not in concepts["含量"]  # only the term that ends the bracketed run
    two = dict(content_concepts("把载荷换成IL-7或IL-15（两者）时T细胞会怎样？"))
    assert "载荷" in two and "il" in two and not {"载荷", "换成"} & two["il"]


def test_a_glossed_term_is_found_by_its_latin_name_in_a_paper_of_the_other_language(lib, hashing):
    """The English paper says only "ABA"; the question glosses 脱落酸 (abscisic acid) with it."""
    store(lib, hashing, paper("dana", "en", ["ABA content in dana1 mutant plants was markedly reduced under drought.",
                                             "Stomatal density decreased in the overexpressing lines."]))
    glossed = _coverage(lib, hashing, "dana1突变体中的脱落酸（ABA）含量有何变化？", 4)
    apart = _coverage(lib, hashing, "dana1突变体中的脱落酸和ABA含量有何变化？", 4)  # two concepts: 脱落酸 is missed
    assert glossed > apart + 0.05


def test_the_question_focus_is_what_a_wh_question_asks_for():
    assert question_focus("What was the 30-day in-hospital mortality of patients admitted in 2010?") == "mortality"
    assert question_focus("At what resolution were the cryo-EM structures determined?") == "resolution"
    assert question_focus("What oral bioavailability in rats did the inhibitor show?") == "bioavailability"
    assert question_focus("What inter-annotator agreement did the annotation reach?") == "agreement"
    # no asked-for phrase, or one that only names the kind of answer
    for question in ("What proportion of the variants had scores?", "Did fine-tuning improve prediction?",
                     "How many genomes were retained?", "Which metabolites changed in the roots?",
                     "Which papers deal with DNA methylation?", "该研究分为几组？", "各要求多少？"):
        assert question_focus(question) == "", question


def test_the_question_focus_of_a_chinese_question_is_the_noun_beside_its_duoshao():
    assert question_focus("该研究的样本量是多少？") == "样本量"
    assert question_focus("移动终端在AP1与AP2之间切换时的丢包率是多少？") == "包率"  # jieba cuts 丢 / 包率
    assert question_focus("HMM的算力节点匹配准确率达到了多少？") == "准确率"
    assert question_focus("遭受攻击时吞吐量下降了多少？") == "吞吐量"  # the noun before the verb
    assert question_focus("作者收集了多少台服务器的算力性能信息？") == "服务器"  # a verb of its own: the noun counted
    assert question_focus("训练时的模型计算利用率（MFU）是多少？") == "mfu"
    assert question_focus("每块A100 GPU配备多大的网络带宽？") == "网络带宽"


def test_a_chinese_paper_that_never_names_the_asked_for_noun_is_weaker_evidence(lib, hashing):
    store(lib, hashing, paper("handover", "zh", [
        "基于 可编程 平台 的 标识 网络 原型 中 ， 移动 终端 在 AP1 与 AP2 之间 反复 切换 。",
        "测得 的 平均 切换 时延 为 55 ms ， 网络 带宽 为 1 Gbps 。"]))
    template = "原型中移动终端在AP1与AP2之间反复切换时的{}是多少？"
    reported, parts, absent = (_strength(lib, hashing, template.format(word), 4) for word in ("时延", "网络带宽", "丢包率"))
    assert reported.focus_missing == 0.0 and absent.focus_missing == 1.0
    assert parts.focus_missing == 0.0  # a compound whose parts the paper prints ("网络", "带宽") is named


def test_a_paper_that_never_names_what_the_question_asks_for_is_weaker_evidence(lib, hashing):
    """Two questions that differ only in what they ask for: the paper reports the ward's mortality,
    not its occupancy."""
    store(lib, hashing, paper("ward", "en", [
        "Patients admitted through the medical short stay ward in 2010 were followed for 30 days at Kamuzu "
        "Central Hospital.", "The short stay ward admitted 1077 in-hospital patients in June 2010.",
        "Mortality was 12% among them."]))
    template = "What was the 30-day in-hospital {} of patients admitted through the short stay ward in 2010?"
    reported, absent = (_strength(lib, hashing, template.format(word), 4) for word in ("mortality", "occupancy"))
    assert reported.focus_missing == 0.0 and absent.focus_missing == 1.0
    model = load_model()
    assert "focus_missing" in model.weights  # calibrated with it (eval/score_answers.py --calibrate)
    assert model.confidence(absent) < model.confidence(replace(absent, focus_missing=0.0)) - 0.2


def test_a_chinese_question_naming_a_latin_term_the_english_paper_never_prints_is_weaker_evidence(lib, hashing):
    """Two Chinese questions on one English paper that differ only in the quantity they name: the
    paper prints an IC50, never a Km (dev: the four such near misses each name a term like that)."""
    store(lib, hashing, paper("eprs", "en", [
        "Halofuginone inhibits the prolyl-tRNA synthetase activity of EPRS1 with an IC50 of 11 nM.",
        "EPRS1 links amino acid sensing to inflammation in macrophages."]))
    template = "卤夫酮（halofuginone）抑制EPRS1脯氨酰-tRNA合成酶活性的{}是多少？"
    printed, absent = (_strength(lib, hashing, template.format(term), 4) for term in ("IC50", "Km"))
    assert printed.cross and absent.cross
    assert printed.latin_missing == 0.0 and absent.latin_missing == 1.0
    model = load_model()
    assert "latin_missing" in model.weights  # calibrated with it (eval/score_answers.py --calibrate)
    assert model.confidence(absent) < model.confidence(replace(absent, latin_missing=0.0)) - 0.2
    # an English question is not judged this way: all its words are Latin and weighed by coverage
    english = _strength(lib, hashing, "What is the Km of halofuginone for EPRS1?", 4)
    assert english.latin_missing == 0.0


def test_only_whole_latin_words_of_two_or_more_characters_are_judged():
    from assistant.question_focus import latin_missing

    have = {"ccgcgg", "drar1", "plasmid"}
    assert not latin_missing([("ccgcgg-3", frozenset({"ccgcgg-3"})), ("3", frozenset({"3"})),
                              ("r", frozenset({"r"})), ("drar1", frozenset({"drar1"}))], have)
    assert latin_missing([("kcat", frozenset({"kcat"})), ("drar1", frozenset({"drar1"}))], have)
    assert not latin_missing([("质粒", frozenset({"质粒", "plasmid"}))], set())  # Chinese terms: coverage's job


def _strength(lib, embedder, question: str, k: int):
    """The evidence strength of `question` over passages retrieved per paper (words split on spaces)."""
    hits = retrieve_per_paper(lib, embedder, question, RetrievalSettings(), k=k)
    terms = [set(h.chunk.text.lower().split()) for h in hits]
    index = lib.indexes().lexical
    return measure_evidence(question, hits, terms, 0.5, lib.paper_terms, index.idf, 1.0, index)


def _coverage(lib, embedder, question: str, k: int) -> float:
    """The evidence coverage of `question` over passages retrieved per paper (words split on spaces)."""
    return _strength(lib, embedder, question, k).coverage



def test_a_chinese_compound_counts_once_not_with_its_search_mode_parts():
    """jieba's search mode also gives "突变" and "变体" for "突变体" (mutant): one concept, judged whole."""
    concepts = dict(content_concepts("拟南芥dana1突变体中的含量与野生型相比有何变化？"))
    assert "突变体" in concepts and "mutant" in concepts["突变体"]
    assert not {"突变", "变体", "野生"} & concepts.keys() and "野生型" in concepts


def test_a_translated_word_finds_its_derived_forms():
    """CC-CEDICT glosses 商业 as "commerce"; the paper says "commercial" (stems commerc / commerci)."""
    forms = dict(content_concepts("商业酿造"))["商业"]
    assert "commerc" in forms and any(derived_in(f, set(tokenize("a commercial brewery"))) for f in forms)


def test_a_paper_of_the_other_language_covers_a_question_within_its_best_two_passages(lib, hashing, monkeypatch):
    """The question's words are split over two chunks of the English paper; a third chunk is noise."""
    filler = " The samples were handled as described in the methods section of this report, with two replicates each."
    store(lib, hashing, paper("ale", "en", [
        "Commercial brewing of lager beer relied on one yeast strain that was reused." + filler,
        "Enzyme abundance rose over fifteen batches in the proteomics data." + filler,
        "Weather records of the town were unrelated to any of these measurements." + filler]))
    question = "商业酿造的酵母中哪类酶的丰度升高？"

    def coverage() -> float:
        hits = retrieve_per_paper(lib, hashing, question, RetrievalSettings(), k=6)
        assert len({h.chunk.id for h in hits}) >= 2, "the paper's passages are separate chunks"
        index = lib.indexes().lexical
        terms = [set(tokenize(h.chunk.text)) for h in hits]
        return measure_evidence(question, hits, terms, 0.5, lib.paper_terms, index.idf, 1.0, index).coverage

    two = coverage()
    monkeypatch.setattr(abstention, "CROSS_PASSAGES", 1)
    one = coverage()
    assert two > one + 0.2 and two > 0.8


def test_a_chinese_question_is_judged_by_the_english_paper_behind_chinese_papers_on_everyday_words(lib, hashing,
                                                                                                  monkeypatch):
    """A Chinese question's own-language BM25 puts Chinese papers that share its everyday words
    (风险, 预防) ahead of the English paper that answers it through translation; judged on the
    first three papers only, the question looked unanswered (dev: 5 of 15 such questions declined)."""
    for n, text in enumerate(["网络风险评估需要预防攻击。", "路由风险的预防方法。", "缓存预防与风险控制。", "标识网络的风险。"]):
        store(lib, hashing, paper(f"zh{n}", "zh", [text]))
    store(lib, hashing, paper("trauma", "en", ["Mechanical compression devices prevent deep vein thrombosis in "
                                                "trauma patients with a low bleeding risk."]))
    question = "创伤患者使用机械加压装置预防深静脉血栓的出血风险是多少？"
    hits = retrieve_per_paper(lib, hashing, question, RetrievalSettings(), k=10, papers=5)
    hits = sorted(hits, key=lambda h: h.paper.doi == "10.1/trauma")  # the answering paper comes fifth
    assert len({h.paper.id for h in hits}) == 5 and hits[-1].paper.doi == "10.1/trauma"
    index = lib.indexes().lexical
    terms = [set(tokenize(h.chunk.text)) for h in hits]

    def judged():
        return measure_evidence(question, hits, terms, 0.5, lib.paper_terms, index.idf, 1.0, index)

    five = judged()
    monkeypatch.setattr(abstention, "PAPERS_CONSIDERED", 3)
    three = judged()
    assert five.paper_id == hits[-1].paper.id and five.cross
    assert five.coverage > three.coverage + 0.3
