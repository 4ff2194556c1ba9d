"""Run names of samplers with their options (K in the EOS path) and the EOS variant study's runs."""
import pytest

from pipeline_lib.sampling.sampler_runs import EOS_DEFAULTS, EOS_STUDY, eos_study_runs, parse_run, run_name


@pytest.mark.parametrize("options, name", [
    ({}, "eos-k10"),
    ({"k_neighbors": 300}, "eos-k300"),
    ({"direction": "away"}, "eos-k10-away"),
    ({"variant": "authors"}, "eos-k10-authors"),
    ({"max_gap": 0.5}, "eos-k10-g0.5"),
    ({"k_neighbors": 50, "direction": "away", "variant": "authors", "max_gap": 0.25}, "eos-k50-away-authors-g0.25"),
])
def test_eos_names_round_trip(options, name):
    assert run_name("eos", options) == name
    sampler, parsed = parse_run(name)
    assert sampler == "eos" and parsed == {**EOS_DEFAULTS, **options}


def test_other_samplers_are_their_name():
    assert run_name("smote", {"k_neighbors": 5}) == "smote"
    assert parse_run("bsmote") == ("bsmote", {})


@pytest.mark.parametrize("bad", ["eos", "eos-k0", "eos-k10-g1.5", "eos-k10-left", "eos-k10-authors-away"])
def test_bad_eos_names_are_rejected(bad):
    with pytest.raises(ValueError, match="eos-k<K>"):
        parse_run(bad)


def test_unknown_eos_option_is_rejected():
    with pytest.raises(ValueError, match="fallback"):
        run_name("eos", {"fallback": "raise"})


def test_study_runs_take_the_configured_k_and_differ():
    runs = eos_study_runs({"k_neighbors": 7, "variant": "authors", "direction": "toward", "max_gap": 1.0})
    assert list(runs) == list(EOS_STUDY)
    assert runs == {"eos_text": "eos-k7", "eos_pseudocode": "eos-k7-away", "eos_authors": "eos-k7-authors",
                    "eos_half_gap": "eos-k7-g0.5"}
