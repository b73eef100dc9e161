"""No table model defaults a field with a builtin factory (`list`, `dict`, `set`): building
such a model makes pydantic parse the builtin's text signature every time (see
shared.dbtypes.empty_list); one model on a request path was enough to double its cost."""

from __future__ import annotations

import inspect

from sqlmodel import SQLModel

import cloud.models  # noqa: F401  (registers every cloud table)
import edge_agent.cameras.models  # (the edge's camera table)
import edge_agent.faces.models  # noqa: F401  (the edge's face tables)
from cloud.channel.models import Referral
from edge_agent.store.models.base import EdgeModel
from shared.dbtypes import empty_list


def _table_models() -> list[type[SQLModel]]:
    found: list[type[SQLModel]] = []
    for base in (SQLModel, EdgeModel):
        for mapper in base._sa_registry.mappers:
            found.append(mapper.class_)
    return found


def test_no_table_model_defaults_to_a_builtin_factory() -> None:
    models = _table_models()
    assert Referral in models and len(models) > 50
    builtin = [f"{m.__name__}.{name}" for m in models
               for name, field in m.model_fields.items()
               if inspect.isbuiltin(field.default_factory) or field.default_factory in (
                   list, dict, set)]
    assert builtin == [], "use shared.dbtypes.empty_list / empty_dict"


def test_the_json_defaults_are_fresh_each_time() -> None:
    first, second = Referral.model_fields["evidence"].default_factory, empty_list
    assert first is second and first() == [] and first() is not first()
