"""One description of a playbook: the model validates files and generates `deskbook schema`, so the two
agree; the loader survives any document (hypothesis, fixed seed, short budget) with located problems."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from deskbook.errors import DeskbookError, ValidationError
from deskbook.playbooks import model
from deskbook.playbooks.loader import load_playbook, parse_playbook, schema_problems, parse_yaml
from deskbook.playbooks.schema import playbook_schema
from deskbook.scripts_library import STANDARD_PHRASES

DATA = Path(__file__).parent / "data" / "playbooks"
MINIMAL = DATA / "minimal.yaml"
PHRASES = set(STANDARD_PHRASES)
#: Fields the loader fills in; a file cannot set them, so the schema does not list them.
SET_BY_LOADER = {"source", "path"}


def _model_classes() -> list[type]:
    """Every model dataclass a file's mappings become, found from Playbook's field types."""
    return [cls for cls in vars(model).values()
            if isinstance(cls, type) and dataclasses.is_dataclass(cls) and hasattr(cls, "__pydantic_fields__")]


def _schemas_by_description(schema: Any, found: dict[str, dict]) -> dict[str, dict]:
    if isinstance(schema, dict):
        if "properties" in schema and isinstance(schema.get("description"), str):
            found.setdefault(schema["description"], schema)
        for value in schema.values():
            _schemas_by_description(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _schemas_by_description(value, found)
    return found


def test_every_model_field_is_a_schema_property_and_nothing_else():
    schema = playbook_schema()
    objects = _schemas_by_description(schema, {})
    classes = _model_classes()
    assert len(classes) >= 20
    for cls in classes:
        fields = {f.name for f in dataclasses.fields(cls)} - SET_BY_LOADER
        described = objects.get(cls.__doc__.strip())
        assert described is not None, cls
        assert set(described["properties"]) == fields, cls
        assert described["additionalProperties"] is False, cls
        required = {f.name for f in dataclasses.fields(cls)
                    if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
        assert set(described.get("required", [])) == required, cls


def test_a_file_cannot_set_what_the_loader_sets(tmp_path):
    text = MINIMAL.read_text(encoding="utf-8").replace("    stage: S-2\n", "    stage: S-2\n    source: here\n", 1)
    path = tmp_path / "source.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_playbook(path, phrase_ids=PHRASES)
    (problem,) = caught.value.problems
    assert "unknown key 'source' in macros[0]" in problem


def test_loaded_elements_know_their_place_and_are_frozen():
    playbook = load_playbook(MINIMAL, phrase_ids=PHRASES)
    assert playbook.path == str(MINIMAL)
    assert playbook.macros[0].source == model.SourceRef(str(MINIMAL), 44, 5)
    assert playbook.macros[0].actions[0] == model.Action("group", "frontline")
    with pytest.raises(dataclasses.FrozenInstanceError):
        playbook.macros[0].key = "other"  # type: ignore[misc]
    key, title = playbook.trigger_categories[0]  # records still unpack as the tuples they were
    assert (key, title.get("en")) == ("routing", "Routing")
    assert dict(playbook.stages)["S-2"].get() == "Greeting"


def test_objects_built_in_code_are_checked_by_the_same_description():
    with pytest.raises(Exception) as caught:
        model.SLATarget("first_reply_time", "soon", 30)
    assert "'urgent'" in str(caught.value)
    target = model.SLATarget("first_reply_time", "urgent", 30)
    assert dataclasses.replace(target, minutes=60).minutes == 60


# ---------------------------------------------------------------- generated documents


def _minimal_data() -> dict:
    return yaml.safe_load(MINIMAL.read_text(encoding="utf-8"))


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    out = [path]
    if isinstance(value, dict):
        for key, item in value.items():
            out += _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            out += _paths(item, (*path, index))
    return out


#: Replacement values; no float with an integral value (JSON Schema counts 2.0 as an integer, a
#: playbook does not) and nothing a YAML file could not hold.
REPLACEMENTS = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 10**20), st.sampled_from(["", "x", "S-2", "en", "EN", "09:00", "urgent"]),
    st.lists(st.sampled_from(["a", "S-2", "en"]), max_size=3), st.just({}), st.just({"en": "x"}), st.just({"colour": 1}),
)


@st.composite
def mutated(draw) -> dict:
    """minimal.yaml's data with one to three values replaced, keys dropped or unknown keys added."""
    data = _minimal_data()
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(data)[1:]))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        action = draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "replace":
            parent[path[-1]] = copy.deepcopy(draw(REPLACEMENTS))
        elif action == "drop" and isinstance(parent, dict):
            del parent[path[-1]]
        elif action == "add" and isinstance(parent, dict):
            parent[draw(st.sampled_from(["colour", "sourc", "notes"]))] = 1
    return data


@seed(20261206)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_the_published_schema_and_the_loader_agree_on_shape(data):
    """A document the JSON Schema accepts is one the model accepts, and the other way round."""
    text = yaml.safe_dump(data, allow_unicode=True)
    parsed, marks = parse_yaml(text, "fuzz.yaml")
    problems = schema_problems(parsed, marks)
    schema_valid = jsonschema.Draft202012Validator(playbook_schema()).is_valid(parsed)
    assert (problems == []) == schema_valid, problems
    assert all(p.startswith("fuzz.yaml:") for p in problems)


@seed(20261206)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    mutated().map(lambda d: yaml.safe_dump(d, allow_unicode=True)),
    st.text(alphabet=st.sampled_from(list("ab: -[]{}&*!|>'\"#\n\t?,") + ["\u00e9", "\ufeff", "\x07"]), max_size=80),
))
def test_no_document_makes_the_loader_raise_anything_but_located_problems(text):
    try:
        parse_playbook(text, "fuzz.yaml", phrase_ids=PHRASES)
    except ValidationError as exc:
        assert exc.problems and all(p.startswith("fuzz.yaml:") for p in exc.problems), exc.problems
    except DeskbookError:
        pass
