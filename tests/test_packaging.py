"""The install paths agree: pyproject.toml, environment.yml and the curated public API."""

import re
import tomllib
from pathlib import Path

import lossviz

ROOT = Path(__file__).resolve().parents[1]


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ;]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_lists_the_same_requirements_as_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    lines = (ROOT / "environment.yml").read_text().splitlines()
    pip_entries = {
        line.strip()[2:].strip() for line in lines
        if line.startswith("      - ") and not line.strip().startswith("- -e")
    }
    assert pip_entries == wanted, (
        f"only in pyproject: {sorted(wanted - pip_entries)}; only in environment.yml: {sorted(pip_entries - wanted)}"
    )


def test_every_requirement_has_a_lower_bound():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"] + project["optional-dependencies"]["test"]:
        assert ">=" in req, f"{req} has no lower bound"


def test_public_names_resolve():
    for name in lossviz.__all__:
        assert getattr(lossviz, name) is not None, name


def test_unknown_public_name_raises_attribute_error():
    try:
        lossviz.no_such_thing  # noqa: B018
    except AttributeError as error:
        assert "no_such_thing" in str(error)
    else:
        raise AssertionError("expected AttributeError")
