"""The vocabularies: one definition each, in the order that matters, known everywhere."""

from typing import get_args

from huikuan.core import commands, plugin, vocabulary
from huikuan.core.vocabulary import (
    CLASSES,
    CONTACT_CHANNELS,
    DEMANDS,
    GRADES,
    MESSAGE_KINDS,
    STAGES,
    TASKS,
)
from huikuan.plugins.templates import BUILT_IN as TEMPLATES


def test_the_ladder_the_classes_and_the_grades_run_from_best_to_worst():
    assert STAGES == ("none", "reminded", "notice", "warning", "hold", "lawyer_letter",
                      "handoff")
    assert CLASSES == ("not_due", "in_collection", "doubtful", "bad", "dead")
    assert GRADES == ("A", "B", "C", "D", "E")


def test_a_message_is_a_demand_a_task_or_a_document():
    assert MESSAGE_KINDS == DEMANDS + TASKS + ("statement",)
    assert not set(DEMANDS) & set(TASKS)


def test_every_kind_of_message_has_a_template_in_each_language():
    for kind in MESSAGE_KINDS:
        for language in get_args(vocabulary.Language):
            assert (TEMPLATES / f"{kind}.{language}.j2").is_file(), (kind, language)


def test_the_plugin_api_re_exports_every_vocabulary():
    for name in vocabulary.__all__:
        assert getattr(plugin, name) is getattr(vocabulary, name), name
        assert name in plugin.__all__


def test_commands_accept_the_words_the_vocabulary_has():
    assert get_args(commands.Grade) == GRADES
    assert get_args(commands.Channel) == CONTACT_CHANNELS
    assert get_args(commands.Direction) == get_args(vocabulary.Direction)
    assert get_args(commands.ContactOutcome) == get_args(vocabulary.ContactOutcome)
