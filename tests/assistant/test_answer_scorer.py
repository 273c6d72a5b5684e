"""The answer scorer's own checks (eval/score_answers.py), without the corpus."""
from __future__ import annotations

from eval.score_answers import states_reference_numbers


def test_the_scorer_checks_the_reference_answers_numbers():
    """A second view of an answer beside "cited gold": does it state the reference's numbers?"""
    reference = "17 time points: 7 from batch 1 and 10 from batch 15."
    assert states_reference_numbers("We sampled 17 time points: 7 from batch 1 and 10 from batch 15. [1]", reference) == 1.0
    assert states_reference_numbers("We sampled 17 time points. [1] [15]", reference) == 0.2  # markers are not numbers
    assert states_reference_numbers("There were 4,809 genomes. [2]", "4809 genomes") == 1.0
    assert states_reference_numbers("Anything. [1]", "No numbers in this reference") is None
