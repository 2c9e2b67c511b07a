"""The ChatModel protocol: every model can be closed, and closing never hides the error that ended the work."""

from __future__ import annotations

import pytest

from agent.errors import ModelError
from agent.models.base import ChatModel, close_model, closing
from agent.models.extractive import ExtractiveModel
from agent.models.scripted import ScriptedModel


class _Leaky(ScriptedModel):
    def close(self) -> None:
        raise ModelError("Could not delete 1 Gemini cache(s); they expire by TTL.")


@pytest.mark.parametrize("model", [ExtractiveModel(), ScriptedModel()])
def test_every_offline_model_is_a_chat_model_that_closes(model: ChatModel) -> None:
    assert isinstance(model, ChatModel)
    model.close()


def test_closing_closes_the_model_when_the_block_fails() -> None:
    model = ScriptedModel()
    with pytest.raises(ValueError), closing(model, pytest.fail) as used:
        assert used is model
        raise ValueError("the work failed")
    assert model.closed


def test_a_close_that_fails_is_a_warning() -> None:
    warnings: list[str] = []
    close_model(_Leaky(), warnings.append)
    assert warnings == ["Could not delete 1 Gemini cache(s); they expire by TTL."]
    with pytest.raises(ValueError), closing(_Leaky(), warnings.append):
        raise ValueError("the error that ended the work is the one raised")
    assert len(warnings) == 2
