"""Scenario loading: the programs a scenario names are found relative to it, under clean paths."""

from __future__ import annotations

import os
from pathlib import Path

from loyalsim.population.scenario import load_scenario
from tests.conftest import ROOT


def test_program_paths_are_normalised_so_messages_and_annotations_name_the_real_file() -> None:
    here = Path.cwd()
    os.chdir(ROOT)
    try:
        scenario = load_scenario("scenarios/coffee-baseline.yaml")  # names ../programs/coffee-stars.yaml
    finally:
        os.chdir(here)
    assert scenario.programs[0].source_file == str(Path("programs") / "coffee-stars.yaml")
