"""Small shared pieces for tests: the text of a generated sample paper and a free loopback port."""
from __future__ import annotations

import socket

# A one-page paper (for tests.pdfmaker.make_paper) that several suites ingest and ask about.
SORGHUM = {"Abstract": ["We measured the drought tolerance of twelve sorghum cultivars in field trials in Kenya."],
           "Results": ["The cultivar Kola retained 84 percent of its grain yield under severe drought stress.",
                       "Leaf rolling began after nine days without irrigation in every cultivar we tested."]}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
