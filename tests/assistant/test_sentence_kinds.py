"""Priors on kinds of sentence (assistant.sentence_kinds): keyword lines, captions, definitions."""
from __future__ import annotations

import pytest

from assistant.sentence_kinds import (BACK_MATTER_SHARE, CAPTION_SHARE, CITING_SHARE, DEFINITION_BOOST,
                                      FRONT_MATTER_SHARE, INTRODUCTION_SHARE, KEYWORD_LINE_SHARE, LEANS_BACK_SHARE, QUANTITY_BOOST,
                                      REASON_BOOST,
                                      TABLE_TEXT_SHARE, UNIT_BOOST, asked_term, asks_about_back_matter, back_matter, defines,
                                      introduces, is_back_matter_heading, kind_share, leans_back, read_question, states_quantity)


@pytest.mark.parametrize("question, term", [
    ("What is S2ORC?", "S2ORC"),
    ("What are ADARs?", "ADARs"),
    ("What is a restriction-modification system?", "restriction-modification system"),
    ("Who is Rebecca Clemons?", "Rebecca Clemons"),
    ("什么是算力网络？", "算力网络"),
    ("标识网络是什么？", "标识网络"),
    # values, not definitions
    ("What is the doubling time of the deletion strain?", ""),
    ("What was the 30-day mortality?", ""),
    ("How large is the S2ORC corpus?", ""),
])
def test_asked_term(question, term):
    assert asked_term(question) == term


def test_definitions_of_the_asked_term():
    assert defines("Restriction-modification (R-M) systems are a widespread defence of bacteria.",
                   "restriction-modification system")
    assert defines("We introduce S2ORC,1 a large corpus of 81.1M English-language academic papers.", "S2ORC")
    assert defines("We present VESPA, software capable of automating a selective pressure analysis.", "VESPA")
    assert defines("ADARs are a family of RNA editing enzymes.", "ADARs")
    assert defines("算力网络是一种新型网络架构。", "算力网络")
    assert not defines("A m4C restriction-modification system inhibits plasmid uptake.", "restriction-modification system")
    assert not defines("As demonstrated for S2ORC-SCIBERT pretraining, cleaned text helps.", "S2ORC")
    assert not defines("Anything at all.", "")


def test_kind_share():
    assert kind_share("Keywords: Deinococcus radiodurans; methyltransferase") == KEYWORD_LINE_SHARE
    assert kind_share("Figure 1: Overview of research questions considered in LONGEVAL.") == CAPTION_SHARE
    assert kind_share("图3 切换时延") == CAPTION_SHARE
    assert kind_share("We introduce S2ORC, a large corpus.", "S2ORC") == DEFINITION_BOOST
    assert kind_share("We introduce S2ORC, a large corpus.") == 1.0  # not a definition question
    assert kind_share("The figures show that the rate doubled.") == 1.0
    assert kind_share("Figure 3 shows that the rate doubled.") == 1.0  # a body sentence citing a figure
    assert kind_share("如图3所示，时延下降。") == 1.0
    # publishing matter glued into a sentence by the first page's reading order
    assert kind_share("混合式度量方法中图法分类号 TP391 收稿日期：2023-01-03；") == FRONT_MATTER_SHARE
    assert kind_share("Foundation Items: The National Natural Science Foundation of China") == FRONT_MATTER_SHARE
    assert kind_share("Received: December 7, 2023. Accepted: March 15, 2024") == FRONT_MATTER_SHARE
    assert kind_share("The samples were received from the hospital in 2019.") == 1.0
    assert kind_share("We measured the e-mail response rate of the clinics.") == 1.0
    # half a thought alone: it points back at the sentence before it
    assert kind_share("In addition, we provide the first evidence that mutant animals are susceptible.") == LEANS_BACK_SHARE
    assert kind_share("因此，时延下降了30%。") == LEANS_BACK_SHARE
    # an ASM journal's first-page margin, read into a body sentence
    assert kind_share("The rate varies from 19.2% in Asia, although Editor Paul D. Fey, University of Nebraska, USA "
                      "Address correspondence to Jessica M. A. Blair.") == FRONT_MATTER_SHARE
    assert kind_share("We thank the Editor for comments and the editor Board.") == 1.0
    # a byline and PLOS's sidebar citation carry the title's words and led the paper's answers
    assert kind_share("analysis of wheat following post-anthesis heat stress Kayla Thomason1☯, Md Ali Babar1☯*, "
                      "John E. Erickson1☯, Michael Mulvaney2,") == FRONT_MATTER_SHARE
    assert kind_share("David F. Jordan1,2,3,4,*, Alexandre K. Dubé1,2,3,4,5, Ugo Dionne2,3,4,6,7,8, David Bradley1,2") \
        == FRONT_MATTER_SHARE
    assert kind_share("Citation: Thomason K, Babar MA, Erickson JE, Mulvaney M (2018) Comparative physiological "
                      "and metabolomics analysis of wheat.") == FRONT_MATTER_SHARE
    assert kind_share("Sho1, Pbs2, and Hog1 interact under osmotic stress in yeast cells.") == 1.0  # gene names
    assert kind_share("We thank John Smith, Mary Jones and Peter Brown for their help.") == 1.0


def test_back_matter_by_heading_or_run_in_heading():
    sentences = ["The hospital serves a population of around 5 million.",
                 "Authors’ contributions All authors approved the final version.",
                 "Acknowledgments Dr. Frank Davidoff (Executive Editor) and",
                 "Lecturer, University of Heidelberg, Germany, for reviewing this article."]
    assert back_matter("Additional file", sentences) == [False, True, True, True]
    assert back_matter("Acknowledgements", sentences[:1]) == [True]
    assert back_matter("Funding:", ["Supported by grant 42."]) == [True]
    assert back_matter("致谢", ["感谢审稿人。"]) == [True]
    assert back_matter("Results", sentences[:1]) == [False]
    assert back_matter("Author Summary", ["We show that ..."]) == [False]  # a summary, not back matter
    assert kind_share("Lecturer, University of Heidelberg.", in_back_matter=True) == BACK_MATTER_SHARE
    assert asks_about_back_matter("Who funded the VESPA work?") and asks_about_back_matter("哪个基金资助了这项研究？")
    assert not asks_about_back_matter("What is the population of Malawi?")
    # a footnote that is only a link is back matter wherever it stands; a sentence with a link is not
    assert back_matter("Introduction", ["We present LongEval.", "1 https://github.com/a/longeval",
                                        "The code is at https://x.org/y."]) == [False, True, False]
    # so is a compliance statement (animal-care or ethics approval, consent); an institute's name is not
    assert back_matter("Amphibian infection model", [
        "We performed all investigations following protocols approved by the Institutional Animal Care and "
        "Use Committee.", "Written informed consent was obtained from the patient.", "本研究经医院伦理委员会批准。",
        "Frogs infected with v+ isolates died by day 43.", "Institute for Research in Biomedicine (IRB Barcelona)."]) \
        == [True, True, True, False, False]
    assert asks_about_back_matter("Was informed consent obtained?")  # then it weighs in full
    assert asks_about_back_matter("Where can I download the code from GitHub?") and asks_about_back_matter("代码的网址是什么？")


def test_a_sentence_that_points_back_at_the_one_before():
    assert leans_back("Conversely, those mutation signatures were enriched at the 5′ end.")
    assert leans_back("However, 10% of the UMRs did not overlap.")
    assert leans_back("These results suggest a role for methylation.")
    assert leans_back("因此，该方法提高了准确率。")
    assert not leans_back("SBS1 mutations showed an overall 51% depletion in loop anchors.")
    assert not leans_back("Theses of this kind are rare.")  # a word, not "These"
    assert not leans_back("本文提出了一种新的度量方法。")


@pytest.mark.parametrize("heading, back", [
    ("Acknowledgments", True), ("5. Acknowledgements", True), ("A c kno wledgements", True),
    ("Competing financial interests", True), ("Conflict of interest statement", True), ("基金项目", True),
    ("Ethics approval and consent to participate", True), ("Data availability", True),
    ("Results", False), ("Author Summary", False), ("Immigrants and health", False), ("", False),
])
def test_back_matter_headings(heading, back):
    # the sections summaries never quote, and the ones answers weigh less
    assert is_back_matter_heading(heading) is back


def test_a_question_about_findings_prefers_the_papers_own_statements():
    asked = read_question("What did the authors find about biofilm formation in Acinetobacter?")
    assert asked.findings and not asked.term
    assert kind_share("RND pumps have also been implicated in biofilm formation (14, 15).", asked) == CITING_SHARE
    assert kind_share("As fine-tuning38, 39 showed for other tasks.", asked) == CITING_SHARE
    assert kind_share("文献[10] 提出了一种调度策略。", read_question("该文发现了什么？")) == CITING_SHARE
    assert kind_share("A. lwoffii formed less biofilm than A. baumannii.", asked) == 1.0
    assert kind_share("(2) LONGEVAL, a set of three guidelines.", asked) == 1.0  # a list item, not a citation
    assert kind_share("Pumps act in biofilm formation (14, 15).", read_question("Which pumps act in biofilms?")) == 1.0
    # "what does each report" asks for findings too; NAR writes its citations with spaces, "( 32 )"
    reports = read_question("Which papers deal with DNA methylation, and what consequence does each report?")
    assert reports.findings
    assert kind_share("The mark was also reported to accumulate across gene bodies ( 32 ).", reports) == CITING_SHARE


@pytest.mark.parametrize("section, opening", [
    ("Introduction", True), ("1. Introduction", True), ("INTRODUCTION", True), ("Background", True),
    ("7 Related work", True), ("A Background & Terminology", True), ("0 引言", True), ("1相关工作", True),
    ("Results", False), ("Discussion", False), ("Abstract", False), ("3.3性能测试", False),
    ("Introducing the pipeline", False), ("", False),
    ("10 Related work", True), ("IV. Introduction", True), ("1 引 言", True),  # numbering as bare_name strips it
])
def test_sections_that_introduce_a_paper(section, opening):
    assert introduces(section) is opening


def test_a_question_about_findings_weighs_the_introduction_less():
    """An introduction says what others found and why the work was done: for a question about
    findings its sentences keep INTRODUCTION_SHARE; for other questions (a definition) they do not."""
    text = "RNA helicases and small GTPases stimulate ribosome assembly, in particular at lower temperatures."
    findings = read_question("How does temperature figure in the main conclusion of each paper?")
    assert findings.findings
    assert kind_share(text, findings, in_introduction=True) == INTRODUCTION_SHARE
    assert kind_share(text, findings) == 1.0
    assert kind_share(text, read_question("What are RNA helicases?"), in_introduction=True) == 1.0


def test_chinese_table_cells_run_together_are_not_prose():
    cells = ("模态类型多元网络模态应用主要功能 IPv4 模态基于IPv4 地址的寻址和转发基于ARP 的地址解析基于LLDP 的网络状态感知"
             "IPv6 模态基于IPv6 地址的寻址和转发基于NDP 的邻居发现和网络状态感知内容标识模态基于内容名的寻址和转发就近获取缓存功能")
    assert kind_share(cells) == TABLE_TEXT_SHARE
    prose = ("本文将处理器运算能力的性能指标TOPS/W 和衡量CPU 速度指标——每秒执行百万级指令数MIPS 作为静态指标的其中2 个因素研究.")
    assert kind_share(prose) == 1.0  # long, but under the limit
    assert kind_share("，".join([cells[:40], cells[40:80], cells[80:]])) == 1.0  # clauses: prose
    assert kind_share("Cefotaxime (μg/mL) 256 2 8192 16 Chlorhexidine (%) 0.0017 0.0008 <1 0.0035 Ciprofloxacin 16 0.06") \
        == TABLE_TEXT_SHARE
    assert kind_share("Survival fell from 82% to 41% at day 3 and to 12% at day 7 in the 20 mutant lines.") == 1.0


@pytest.mark.parametrize("question, quantity", [
    ("At what temperature did the ancestral EF-1A bind GDP optimally?", True),
    ("How many isolates contained viral gene matches?", True),
    ("What rates of bleeding did the systematic review calculate?", True),
    ("Which method worked best, and what recall@3 did it reach?", True),
    ("By how much did the doubling time increase?", True),
    ("平均切换时延是多少？", True),
    ("原型系统一共划分了几个自治域？", True),
    ("What is S2ORC?", False),
    ("Which papers examine restriction-modification systems?", False),
    ("该文提出的度量方法叫什么？", False),
])
def test_questions_that_ask_for_a_quantity(question, quantity):
    assert read_question(question).quantity is quantity


def test_a_quantity_question_prefers_sentences_that_state_a_number():
    assert states_quantity("The optimum was 52.9 °C, close to the growth optimum.")
    assert states_quantity("Overall DVT rates exceed 50%.") and states_quantity("about 4.7-fold longer")
    assert states_quantity("其中切换时延最大值为75 ms，最小值为41 ms。")
    # names, citations and pointers are not quantities
    assert not states_quantity("The Kir6.2-S118L mutation in MK-D1 EF-1A was studied.")
    assert not states_quantity("As shown in Figure 2 and Table 3, pumps act in biofilms (14, 15) [12].")
    assert not states_quantity("如图5所示，终端接入后发送切换报文。")
    asked = read_question("At what temperature did EF-1A bind GDP optimally?")
    # the number in the unit asked for weighs more than a number in another unit
    assert kind_share("EF-1A bound GDP best at 52.9 °C.", asked) == pytest.approx(QUANTITY_BOOST * UNIT_BOOST)
    assert kind_share("EF-1A bound GDP in 12 of the 15 ancestors.", asked) == QUANTITY_BOOST
    assert kind_share("时延最大值为75 ms。", read_question("平均切换时延是多少？")) == pytest.approx(QUANTITY_BOOST * UNIT_BOOST)
    assert kind_share("doubling time was 4.7-fold longer", read_question("How much longer was the doubling time?")) \
        == pytest.approx(QUANTITY_BOOST * UNIT_BOOST)
    assert kind_share("We measured how EF-1A binds GDP across temperatures.", asked) == 1.0
    assert kind_share("EF-1A bound GDP best at 52.9 °C.", read_question("What does EF-1A bind?")) == 1.0


@pytest.mark.parametrize("question, reason", [
    ("Why was the KPC model chosen?", True),
    ("What is the main reason for the drop in throughput?", True),
    ("作者为什么选择熵权法来计算基础性能得分？", True),
    ("消费者取得辅助密钥块的时间逐渐缩短，这是什么原因？", True),
    ("Which model was chosen?", False),
    ("平均切换时延是多少？", False),
])
def test_questions_that_ask_why(question, reason):
    assert read_question(question).reason is reason


def test_a_why_question_prefers_sentences_that_give_a_reason():
    asked = read_question("Why can eCPA not be used directly in P4-based NDN?")
    for gives in ("Since NDN adopts a content-centric mode, eCPA cannot be integrated directly.",
                  "eCPA fails because its state does not fit the switch.",
                  "The gateway is reconfigured in order to keep the old stack."):
        assert kind_share(gives, asked) == pytest.approx(REASON_BOOST), gives
    for plain in ("eCPA has been used since 2019 in IP networks.", "eCPA permutes content in switches."):
        assert kind_share(plain, asked) == 1.0, plain
    why_zh = read_question("作者为什么选择熵权法？")
    assert kind_share("采用熵权法的目的是由于熵权法是一种客观赋权方法。", why_zh) == pytest.approx(REASON_BOOST)
    assert kind_share("本文利用熵权法去分析静态指标。", why_zh) == 1.0
    # a reason is no better than any sentence when the question does not ask why
    assert kind_share("eCPA fails because its state does not fit the switch.", read_question("What is eCPA?")) == 1.0


def test_a_quoted_sentence_is_shown_without_markers_or_a_run_in_label():
    from assistant.extractive import readable

    assert readable("Results  Here, by analyzing adr-1 mutants, we find [12] that ...") == \
        "Here, by analyzing adr-1 mutants, we find that ..."
    assert readable("Conclusions Our data uncover a role.") == "Our data uncover a role."
    assert readable("Results were similar in both strains.") == "Results were similar in both strains."
    assert readable("• BdDV-1 is a novel DNA virus") == "BdDV-1 is a novel DNA virus"
    assert readable("Methods and materials differ.") == "Methods and materials differ."
