"""`souwen` sub-commands for the metadata records part of the library platform (issue 6); filled in by its
own change."""
from __future__ import annotations

import argparse


def add_parsers(sub, common: argparse.ArgumentParser) -> None:
    """Add this part's sub-commands to the `souwen` parser (none yet)."""
