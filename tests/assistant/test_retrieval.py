"""Retrieval: the bilingual tokenizer's edge cases, BM25 through real bm25s, weighted RRF, and the
cross-language channel that lets a Chinese question reach an English paper by its Latin terms.

Real SQLite, FAISS and bm25s under tmp_path with the hashing embedder; the one test through the
real MiniLM is marked slow.
"""
from __future__ import annotations

import pytest

from assistant.lexical import LexicalIndex, fit_to_vocabulary, known_words, latin_terms, tokenize
from assistant.retrieval import fuse_ranks, query_language, retrieve
from assistant.settings import RetrievalSettings
from tests.minilib import paper, store


def test_latin_runs_stop_at_chinese():
    # A Latin run used to swallow the Chinese after it: "dana1突变体中的脱落酸" was one term.
    terms = tokenize("拟南芥dana1突变体中的脱落酸（ABA）含量")
    assert "dana1" in terms and "aba" in terms and "脱落酸" in terms
    assert not any("dana1" in t and t != "dana1" for t in terms)
    assert latin_terms(terms) == ["dana1", "aba"]


def test_full_width_forms_and_ligatures_are_normalised():
    assert "wedge100bf-32x" in tokenize("型号均为Wedge100BF－32X")  # full-width hyphen
    assert tokenize("conﬁrmed") == tokenize("confirmed")  # the "ﬁ" ligature PDFs keep


def test_hyphenated_and_decimal_terms_kept_whole_and_split():
    terms = tokenize("IL-7 rose 4.7 fold")
    assert {"il-7", "il", "7", "4.7", "fold"} <= set(terms)


def test_bm25_ranks_the_matching_passage_first():
    docs = [tokenize(t) for t in ("ribosome assembly needs rRNA enzymes", "wheat germination raises vitamins",
                                  "drought reduces wheat yield")]
    index = LexicalIndex(docs)
    hits = index.search(tokenize("How does drought change wheat yield?"), 3)
    assert hits[0][0] == 2 and all(score > 0 for _, score in hits)


def test_a_chinese_word_jieba_guessed_differently_in_the_question_is_cut_into_the_papers_words():
    """The paper's "熵权法的目的" gives "熵", "权法"; the question's "熵权法来计算" gives "熵", "权法来"
    (jieba's guess takes the next character): BM25 missed the method's own name."""
    docs = [tokenize(t) for t in ("采用熵权法的目的是由于熵权法是一种客观赋权方法", "本文的示意图给出系统结构",
                                  "用户意图由模型识别")]
    index = LexicalIndex(docs)
    asked = tokenize("作者为什么选择熵权法来计算得分？")
    assert "权法来" in asked and "权法" not in asked and "权法" in index
    fitted = fit_to_vocabulary(asked, index)
    assert "权法" in fitted and "权法来" not in fitted
    assert index.search(fitted, 1)[0][0] == 0
    # a dictionary word stays whole though its tail is a known word ("示意图" is no "意图"),
    # and so does a word the documents hold or one with no known piece
    assert known_words("示意图", {"意图"}) == ["示意图"]
    assert known_words("权法来", {"权法来"}) == ["权法来"] and known_words("郑和", index) == ["郑和"]


def test_fuse_ranks_weights_and_reports_ranks():
    fused = fuse_ranks({"a": [(1, 9.0), (2, 8.0)], "b": [(2, 0.9), (3, 0.8)]}, {"a": 0.8, "b": 0.2}, 60)
    # 2 is in both lists (0.8/62 + 0.2/61) and beats 1, first in the heavier list only (0.8/61).
    assert [item for item, *_ in fused] == [2, 1, 3]
    assert fused[0][2] == {"a": 2, "b": 1}
    alone = fuse_ranks({"a": [(1, 9.0), (2, 8.0)], "b": [(2, 0.9), (3, 0.8)]}, {"a": 1.0, "b": 0.0}, 60)
    assert [item for item, *_ in alone][:2] == [1, 2]


def test_query_language():
    assert query_language("在静态培养条件下 OD600 是多少？") == "zh"
    assert query_language("What is the OD600 under static culture?") == "en"


CHINESE = paper("zh-net", "zh", [
    "在静态培养条件下，我们测量了交换机的转发时延。实验结果表明，平均时延为55毫秒。",
    "静态培养条件与生物膜形成无关，本文讨论标识网络的移动性管理。",
])
ENGLISH = paper("en-bio", "en", [
    "In static conditions, A. baumannii strains formed more biofilm, median OD600 of 0.9.",
    "Ribosome assembly in E. coli requires rRNA modification enzymes such as RlmE.",
])
QUESTION = "在静态培养条件下，鲍曼不动杆菌形成生物膜的OD600中位数是多少？"


def test_structured_query_counts_each_word_once_at_its_own_weight():
    """search_concepts: a word with several renderings counts once (its best one), so a passage
    holding three wrong senses of one word loses to one holding two words the query asks for."""
    docs = [["纸张", "纸堆", "纸质"], ["干旱", "小麦"], ["干旱"]]
    index = LexicalIndex(docs)
    sheet, drought, wheat = (1.0, ["纸张", "纸堆", "纸质"]), (1.0, ["干旱", "旱灾"]), (1.0, ["小麦", "麦子"])
    hits = index.search_concepts([sheet, drought, wheat], 3)
    assert hits[0][0] == 1 and len(hits) == 3
    assert index.search(["纸张", "纸堆", "纸质", "干旱", "旱灾", "小麦", "麦子"], 3)[0][0] == 0  # the bag: row 0 wins
    # the weight is the word's: doubling one concept's weight doubles its share of the score
    single = dict(index.search_concepts([drought], 3))
    double = dict(index.search_concepts([(2.0, drought[1])], 3))
    assert double[2] == pytest.approx(2 * single[2])
    assert index.search_concepts([(1.0, ["未知"])], 3) == []


def test_chinese_question_reaches_english_paper_through_latin_terms(lib, hashing):
    store(lib, hashing, CHINESE)
    store(lib, hashing, ENGLISH)
    off = RetrievalSettings(crosslingual_weight=0.0, dense_weight_zh=0.0)
    on = RetrievalSettings(crosslingual_weight=1.0, dense_weight_zh=0.0)
    top_off = retrieve(lib, hashing, QUESTION, off, k=1)
    top_on = retrieve(lib, hashing, QUESTION, on, k=1)
    # Without the channel, the Chinese paper's shared words win; with it, the English evidence does.
    assert top_off[0].paper.lang == "zh"
    assert "OD600" in top_on[0].chunk.text


def test_english_questions_get_no_crosslingual_list(lib, hashing):
    store(lib, hashing, CHINESE)
    store(lib, hashing, ENGLISH)
    hits = retrieve(lib, hashing, "median OD600 of biofilm in static conditions", RetrievalSettings(), k=3)
    assert hits and hits[0].paper.lang == "en"


def test_crosslingual_channel_respects_filters(lib, hashing):
    from assistant.retrieval import Filters

    store(lib, hashing, CHINESE)
    store(lib, hashing, ENGLISH)
    hits = retrieve(lib, hashing, QUESTION, RetrievalSettings(crosslingual_weight=1.0), k=5,
                    filters=Filters(dois=("10.1/zh-net",)))
    assert hits and all(h.paper.doi == "10.1/zh-net" for h in hits)


ZH_PROTOTYPE = paper("zh-sin", "zh", [
    "Smart identifier network mobility management on a programmable platform: a prototype and its data plane.",
    "标识网络将身份与位置分离，映射服务器保存身份标识与路由标识的映射关系。",
    "数据平面由四台可编程交换机构成，型号均为Wedge100BF，控制平面运行在服务器上。",
    "移动终端切换接入网后，控制器向映射服务器注册新的映射关系。",
])
EN_SWITCHES = paper("en-p4", "en", [
    "Programmable switch hardware lets the data plane parse custom packet headers.",
    "We build the data plane on programmable switch hardware and measure its latency.",
    "The prototype data plane uses programmable switch pipelines for network functions.",
    "Switch hardware resources limit how many tables a programmable data plane can hold.",
])
EN_QUESTION = "Which programmable switch hardware builds the data plane of the smart identifier network prototype?"


def test_english_question_finds_the_answer_inside_the_chinese_paper_it_is_about(lib, hashing):
    """The Chinese paper leads through its English abstract; its answer is Chinese body text that
    only the translated terms reach, behind an English paper that repeats the question's words."""
    store(lib, hashing, ZH_PROTOTYPE)
    store(lib, hashing, EN_SWITCHES)
    off = retrieve(lib, hashing, EN_QUESTION, RetrievalSettings(crosslingual_focus_weight=0.0), k=3)
    on = retrieve(lib, hashing, EN_QUESTION, RetrievalSettings(), k=3)
    assert any(h.paper.lang == "zh" for h in off[:5])  # the paper itself is found either way
    assert not any("Wedge100BF" in h.chunk.text for h in off)
    assert any("Wedge100BF" in h.chunk.text for h in on)
    # A Chinese question gets no focus list (its gloss embedding ranks passages of English papers).
    zh = retrieve(lib, hashing, "四台可编程交换机的型号是什么？", RetrievalSettings(), k=3)
    assert zh and zh[0].paper.lang == "zh"


ZH_ACCESS = paper("zh-dac", "zh", [
    "Data access control for information-centric mobile ad hoc networks with an auxiliary key block.",
    "为了保证辅助密钥块的真实性，辅助密钥块使用CP的私钥进行签名。",
    "认证服务器分发密钥，密钥由消费者保管，认证过程需要密钥。",
    "节点缓存的区块由附属节点保管，区块认证依靠密钥。",
    "仿真环境为8 GB内存的计算机，节点数为50到200。",
])
EN_CIPHERS = paper("en-keys", "en", [
    "The key block of the cipher is guaranteed to be authentic by the auxiliary server.",
    "Key blocks and auxiliary keys guarantee authenticity in our cipher design.",
    "An auxiliary key block guarantees the authenticity of stored keys.",
])


def test_english_question_ranks_the_chinese_passages_by_their_english_glosses(lib, hashing):
    """CC-CEDICT renders "guarantee" as 保修/保准/保管 and "auxiliary" as 附属, not the paper's 保证 and
    辅助: translated into Chinese, the question's words rank passages that hold those renderings
    (and 密钥, 认证) first. The passages' own words glossed into English ("保证" -> "guarantee",
    "辅助" -> "assist", "真实性" -> "authenticity") put the one that answers first."""
    from assistant.lexicon import expand_terms

    store(lib, hashing, ZH_ACCESS)
    store(lib, hashing, EN_CIPHERS)
    question = "How is the authenticity of the auxiliary key block guaranteed?"
    assert not {"保证", "辅助"} & set(expand_terms(tokenize(question)))
    # the focus list nearly alone (the translated terms' own list over all Chinese papers weighs little)
    hits = retrieve(lib, hashing, question, RetrievalSettings(crosslingual_weight=0.01), k=5)
    chinese = [h for h in hits if h.paper.lang == "zh" and "Data access" not in h.chunk.text]
    assert chinese and "私钥进行签名" in chinese[0].chunk.text


ZH_WHEAT = paper("zh-wheat", "zh", [
    "冬小麦根系在不同灌溉处理下的分布。",
    "干旱胁迫使小麦籽实产率下降了23%，灌浆期最为敏感。",
    "试验在河南进行，共设四个处理，每个处理三次重复。",
])
EN_STEEL = paper("en-steel", "en", [
    "Annealing reduced the yield stress of the steel, and how much it fell depended on how much the "
    "grains grew during the anneal at each of the temperatures that the study compared.",
    "The yield stress was reduced further at higher annealing temperatures, where the grains of the "
    "steel coarsened most and the dislocation density fell in every sample that was measured.",
    "Cold rolling raised the yield stress again, and the stress reduced by annealing came back within "
    "two passes through the mill, whichever temperature the steel had been annealed at before.",
])


def test_english_question_a_chinese_passage_covers_best_weighs_the_translated_list_fully(lib, hashing):
    """"drought stress ... wheat yield": the steel paper covers "reduce", "yield", "stress" in
    other senses; the Chinese passage covers drought, stress, wheat and yield through their
    renderings (干旱, 胁迫, 小麦, 产率), which weigh more. The translated list then weighs as the
    question's own BM25 list, and its first passage ties with the steel paper's first; held to the
    usual weight, all the steel paper's passages come before it."""
    store(lib, hashing, ZH_WHEAT)
    store(lib, hashing, EN_STEEL)
    question = "By how much did drought stress reduce wheat yield?"
    led = retrieve(lib, hashing, question, RetrievalSettings(), k=5)
    held = retrieve(lib, hashing, question, RetrievalSettings(crosslingual_lead=1000.0), k=5)
    assert len({h.chunk.id for h in held if h.paper.lang == "en"}) == 3  # the steel paragraphs are three passages
    assert any("23%" in h.chunk.text for h in led[:2]) and led[0].score == pytest.approx(led[1].score)
    assert [h.paper.lang for h in held[:4]] == ["en", "en", "en", "zh"] and "23%" in held[3].chunk.text


@pytest.mark.slow
def test_real_minilm_keeps_bm25_in_charge(lib, minilm):
    store(lib, minilm, ENGLISH)
    store(lib, minilm, CHINESE)
    hits = retrieve(lib, minilm, "Which enzymes does ribosome assembly in E. coli require?",
                    RetrievalSettings(), k=1)
    assert "RlmE" in hits[0].chunk.text


def test_questions_about_several_papers_are_recognised():
    from assistant.retrieval import asks_about_several_papers as several

    for q in ("Which papers study restriction-modification systems, and what did each find?",
              "Compare the glucokinase study and the KCNJ11 study: which assays did they use?",
              "Two papers study ribosomes; how does temperature figure in them?",
              "哪两篇论文基于P4可编程交换机搭建了原型系统？",
              "两篇论文各自取得了怎样的性能结果？",
              "Two NLP papers are built on collections of papers: how many papers does each hold?",
              "Compare the mutational scan of glucokinase and the scan of the Pbs2 motif: where in each "
              "protein do the gain-of-function mutations lie?",
              "Which papers deal with DNA methylation, and what consequence does each report?"):
        assert several(q), q
    for q in ("How did the inhibition constant compare with that of its parent RXP407?",
              "What did the study find about biofilm formation?",
              "鲍曼不动杆菌和鲁氏不动杆菌形成生物膜的OD600中位数分别是多少？",
              "HMM 静态指标 动态指标 算力节点匹配准确率 对比曲线",
              "How many multimodal terminals does each domain of the prototype contain?",
              "Compare the accuracy of HMM and of the static method."):
        assert not several(q), q


def test_per_paper_retrieval_brings_every_paper(lib, hashing):
    from assistant.retrieval import Filters, retrieve_per_paper

    ribosome = paper("ribosome", "en", [f"Ribosome assembly step {i}: rRNA modification enzymes act on "
                                        f"the large subunit at low temperature." for i in range(6)])
    switch = paper("switch", "en", ["A programmable switch forwards packets; ribosome is not mentioned.",
                                    "At low temperature the switch hardware kept its latency."])
    store(lib, hashing, ribosome)
    store(lib, hashing, switch)
    store(lib, hashing, ENGLISH)
    question = "Which papers report results at low temperature, and what did each find?"
    plain = retrieve(lib, hashing, question, RetrievalSettings(), k=3)
    hits = retrieve_per_paper(lib, hashing, question, RetrievalSettings(), k=4)
    dois = [h.paper.doi for h in hits]
    # Plain retrieval fills its list with the paper that repeats the words; per paper, the
    # runner-up brings its own best passage, interleaved after the best paper's first one.
    assert {h.paper.doi for h in plain} == {"10.1/ribosome"}
    assert dois[0] == "10.1/ribosome" and dois[1] == "10.1/switch" and len(hits) <= 4
    # `each`: that many passages from every paper, however many that makes in all
    deep = retrieve_per_paper(lib, hashing, question, RetrievalSettings(), k=2, each=2)
    assert sum(h.paper.doi == "10.1/ribosome" for h in deep) == 2 and len(deep) > 2
    assert [h.paper.doi for h in deep[:2]] == ["10.1/ribosome", "10.1/switch"]
    only = retrieve_per_paper(lib, hashing, question, RetrievalSettings(), k=4,
                              filters=Filters(dois=("10.1/ribosome", "10.1/en-bio")))
    assert only and {h.paper.doi for h in only} <= {"10.1/ribosome", "10.1/en-bio"}


def test_the_framing_of_a_several_papers_question_is_not_its_topic():
    from assistant.retrieval import topic_of_several

    assert topic_of_several("Which papers deal with heat stress, and what does each report?") == \
        "with heat stress, and ?"
    assert topic_of_several("Compare the two studies: what did each find about biofilms?") == "the : about biofilms?"
    assert topic_of_several("哪两篇论文研究了算力网络？它们分别提出了什么方法？") == "算力网络？ 方法？"
    # the verbs of the framing too: "研究了" (studied) kept Chinese papers about 研究 on top of a
    # question about yeast, which only English papers hold, and the question was declined
    assert topic_of_several("哪些论文研究了酵母，各自发现了什么？") == "酵母， ？"
    assert topic_of_several("Which papers?") == "Which papers?"  # nothing left: the question as asked


def test_topics_of_several_split_joined_topics_of_the_first_clause():
    from assistant.retrieval import topics_of_several

    assert topics_of_several("哪些论文研究了算力网络和标识网络？它们各自提出了什么方法？") == [
        "算力网络和标识网络？ 方法？", "算力网络", "标识网络"]
    assert topics_of_several("Compare the glucokinase study and the KCNJ11 study: what did each find?")[1:] == [
        "the glucokinase", "the KCNJ11"]
    assert topics_of_several("Which papers studied opioid receptors or ACE inhibitors, and what did they report?") == [
        "opioid receptors or ACE inhibitors, and ?", "opioid receptors", "ACE inhibitors"]
    # ", and what does each report?" joins the framing to the topic, not a second topic
    assert topics_of_several("Which papers deal with heat stress, and what does each report?") == [
        "with heat stress, and ?"]


def test_rerank_by_sentences_fuses_both_orders(lib, hashing):
    from assistant.extractive import Sentence, rerank_by_sentences

    filler = " ".join(f"word{i}" for i in range(40))  # each paragraph its own chunk
    store(lib, hashing, paper("three", "en", [f"alpha beta gamma one {filler}.", f"alpha beta gamma two {filler}.",
                                              f"alpha beta three {filler}."]))
    hits = retrieve(lib, hashing, "alpha beta", RetrievalSettings(), k=3)
    assert len(hits) == 3

    def said(rank, score):
        return Sentence(hits[rank], rank, 0, hits[rank].chunk.text, score, 0.0, score)

    # the third passage holds the best sentence: weight 0 keeps retrieval's order, 2 lifts it first
    sentences = [said(2, 0.9), said(0, 0.5), said(1, 0.4)]
    assert [h.chunk.id for h in rerank_by_sentences(hits, sentences, 0.0)] == [h.chunk.id for h in hits]
    reranked = rerank_by_sentences(hits, sentences, 2.0)
    assert reranked[0].chunk.id == hits[2].chunk.id and reranked[1].chunk.id == hits[0].chunk.id
    assert reranked[0].score > reranked[1].score > reranked[2].score
    # a passage without any scored sentence keeps only its retrieval term
    assert rerank_by_sentences(hits, [said(1, 0.9)], 2.0)[0].chunk.id == hits[1].chunk.id


def test_per_paper_retrieval_embeds_topic_and_question_once_each(lib, hashing):
    from assistant.retrieval import retrieve_per_paper

    store(lib, hashing, ENGLISH)
    store(lib, hashing, paper("switch", "en", ["A programmable switch forwards packets at low latency."]))
    asked = []

    class Counting:
        def __getattr__(self, name):
            return getattr(hashing, name)

        def embed_query(self, text):
            asked.append(text)
            return hashing.embed_query(text)

    hits = retrieve_per_paper(lib, Counting(), "Which papers report biofilm or switch results?", RetrievalSettings(), k=4)
    assert len({h.paper.id for h in hits}) == 2
    # the topic and the topics it joins rank the papers, the question as asked searches each: each
    # embedded once
    assert asked == ["biofilm or switch results?", "biofilm", "switch results",
                     "Which papers report biofilm or switch results?"]


ZH_HANDOVER = paper("zh-handover", "zh", [
    "移动终端的切换时延平均为55毫秒，最大为75毫秒，满足实时应用。",
    "移动终端的切换时延随接入域增加而上升，频繁切换时波动。",
    "标识网络原型系统部署于可编程平台，移动终端通过接入点接入标识网络。",
    "标识网络原型系统的控制平面维护映射关系，移动终端切换后注册新的映射。",
    "标识网络原型系统的数据平面由可编程交换机组成，移动终端的报文经交换机转发。",
    "利用抓包软件测量接入点发出切换报文到收到数据包之间的时间间隔，即为切换时延。",
])
ZH_HANDOVER_QUESTION = "这套标识网络原型系统中，作者是怎样实测移动终端的切换时延的？"


def test_chinese_question_led_to_one_paper_ranks_its_passages_by_their_glosses(lib, hashing):
    """The question says 实测 where the paper says 测量: BM25 ranks the passages that repeat the
    topic words (标识网络, 移动终端, 切换时延) above the one that says how the delay was measured.
    Glossed into English, both words are "measur": the within-paper gloss list puts it first, and
    the fused list moves it up (8th -> 4th here; RRF, weight 0.5 against BM25's 0.85)."""
    from assistant.focus import focus_within_leading_paper

    store(lib, hashing, ZH_HANDOVER)
    store(lib, hashing, EN_SWITCHES)
    answer = "抓包软件测量"
    off = retrieve(lib, hashing, ZH_HANDOVER_QUESTION, RetrievalSettings(gloss_focus_weight_zh=0.0), k=12)
    on = retrieve(lib, hashing, ZH_HANDOVER_QUESTION, RetrievalSettings(), k=12)
    rank = {name: next((i for i, h in enumerate(hits) if answer in h.chunk.text), None)
            for name, hits in (("off", off), ("on", on))}
    assert rank["off"] is not None and rank["on"] < rank["off"], rank
    indexes = lib.indexes()
    terms = fit_to_vocabulary(tokenize(ZH_HANDOVER_QUESTION), indexes.lexical)
    lexical = [(int(indexes.rowids[row]), score) for row, score in indexes.lexical.search(terms, 10)]
    focus = focus_within_leading_paper(lib, indexes, lexical, ZH_HANDOVER_QUESTION, None)
    assert answer in lib.catalogue.chunks([focus[0][0]])[focus[0][0]].text


def test_gloss_list_only_for_a_chinese_question_led_to_one_paper(lib, hashing):
    """Its first BM25 hits spread over two Chinese papers (as for a Chinese question on English
    papers, which shares only everyday words with the Chinese ones): no list."""
    from assistant.focus import FOCUS_DEPTH, focus_within_leading_paper

    store(lib, hashing, ZH_HANDOVER)
    store(lib, hashing, ZH_PROTOTYPE)
    indexes = lib.indexes()

    def lexical(question: str) -> list[tuple[int, float]]:
        terms = fit_to_vocabulary(tokenize(question), indexes.lexical)
        return [(int(indexes.rowids[row]), score) for row, score in indexes.lexical.search(terms, 10)]

    one = lexical(ZH_HANDOVER_QUESTION)
    assert len(one) >= FOCUS_DEPTH and focus_within_leading_paper(lib, indexes, one, ZH_HANDOVER_QUESTION, None)
    mixed = lexical("标识网络的映射服务器和可编程交换机")
    papers = {lib.catalogue.chunks([r])[r].paper_id for r, _ in mixed[:FOCUS_DEPTH]}
    assert len(papers) == 2 and focus_within_leading_paper(lib, indexes, mixed, "标识网络的映射服务器和可编程交换机", None) == []
