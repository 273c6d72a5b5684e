"""Small shared pieces for tests: the text of generated sample papers and a free loopback port."""
from __future__ import annotations

import socket
from pathlib import Path

# A one-page paper (for tests.pdfmaker.make_paper) that several suites ingest and ask about.
SORGHUM = {"Abstract": ["We measured the drought tolerance of twelve sorghum cultivars in field trials in Kenya."],
           "Results": ["The cultivar Kola retained 84 percent of its grain yield under severe drought stress.",
                       "Leaf rolling began after nine days without irrigation in every cultivar we tested."]}

WHEAT = {"Abstract": ["Germinated wheat was milled into a nutritional supplement for elderly people."],
         "Results": ["The germinated wheat supplement raised vitamin E content by 35 percent compared with raw wheat.",
                     "Protein digestibility improved after 48 hours of germination at 25 degrees."]}
RIBO = {"Abstract": ["Ribosomal RNA modification enzymes stimulate large subunit assembly in E. coli."],
        "Results": ["The strain lacking ten modification enzymes grew 4.7 times slower at 37 degrees.",
                    "Assembly intermediates accumulated in sucrose gradients."]}
NDN = {"摘要": ["本文提出一种基于可编程平台的标识网络移动性管理机制。"],
       "实验结果": ["移动终端在两个接入点之间反复切换，测得平均切换时延为55毫秒，最大值为75毫秒。"]}

# Two more crop papers, for the browser tests (a topic matches one and not the other).
RICE = {"Abstract": ["We tested flooding tolerance of rice varieties carrying the SUB1A gene in lowland fields."],
        "Results": ["Varieties with SUB1A survived 14 days of complete submergence with 70 percent survival.",
                    "Yield after flooding was twice that of varieties without the gene."]}
MILLET = {"Abstract": ["We compared pearl millet landraces for heat tolerance during flowering."],
          "Results": ["Pollen viability of the landrace Tifleaf fell by 40 percent at 42 degrees Celsius.",
                      "Grain set recovered within five days after the heat wave ended."]}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# key -> (title, DOI, sections, year, language) of the sample papers several suites ingest
SAMPLES = {
    "wheat": ("A nutritional supplement made from germinated wheat", "10.1234/wheat.2021.7", WHEAT, 2021, "en"),
    "ribo": ("rRNA modification enzymes stimulate ribosome assembly", "10.1093/test/ribo1", RIBO, 2024, "en"),
    "ndn": ("基于可编程平台的标识网络移动性管理机制", "10.3969/j.issn.1673-629x.2023.10.010", NDN, 2023, "zh"),
    "sorghum": ("Drought tolerance of sorghum cultivars", "10.1234/sorghum.2021", SORGHUM, 2021, "en"),
}


def make_samples(folder: Path, keys) -> dict[str, Path]:
    """PDFs of the named sample papers (Chinese ones without a figure), made with tests.pdfmaker."""
    from tests.pdfmaker import make_paper

    made = {}
    for key in keys:
        title, doi, sections, year, lang = SAMPLES[key]
        made[key] = make_paper(folder / f"{key}.pdf", title=title, doi=doi, sections=sections, year=year,
                               lang=lang, figure=lang == "en")
    return made
