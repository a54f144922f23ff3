"""The policy host: hooks are asked as their specification says, plugins fail alone."""

import inspect
import re
from datetime import date

import pytest

from huikuan.core import hookspecs
from huikuan.core.plugin import EscalationDecision, Settings, hookimpl
from huikuan.core.policy import ALWAYS_ON, PluginError, PluginFailure, PolicyHost
from huikuan.core.testing import account_view, credit_position, invoice_view, policy_host

AS_OF = date(2026, 2, 3)
OVERDUE = account_view(invoices=[invoice_view(due_on=date(2026, 1, 31))])


def hooks():
    return [(name, function) for name, function in inspect.getmembers(hookspecs)
            if name.startswith("huikuan_")]


def test_a_first_result_hook_cannot_be_collected_nor_a_collect_hook_cut_short():
    host = policy_host()
    with pytest.raises(TypeError, match="first non-None result wins"):
        host.collect("huikuan_escalation", account=OVERDUE, as_of=AS_OF)
    with pytest.raises(TypeError, match="all results are collected"):
        host.first("huikuan_next_review", account=OVERDUE, as_of=AS_OF)
    with pytest.raises(TypeError, match="all results are collected"):
        host.decide("huikuan_contact_allowed", message=None, account=OVERDUE, now=None)


def test_a_hook_is_asked_with_exactly_the_arguments_of_its_specification():
    host = policy_host()
    with pytest.raises(TypeError, match=r"takes \['account', 'as_of'\]"):
        host.first("huikuan_escalation", account=OVERDUE)
    with pytest.raises(TypeError, match="settings, which the host passes"):
        host.first("huikuan_escalation", account=OVERDUE, as_of=AS_OF, settings=Settings())
    with pytest.raises(TypeError, match="not a huikuan hook"):
        host.first("huikuan_escalate", account=OVERDUE, as_of=AS_OF)


def test_your_plugin_is_asked_before_the_built_in_one_and_named_as_the_decider():
    class Steady:
        __version__ = "2.1"

        @hookimpl
        def huikuan_escalation(self, account):
            return EscalationDecision(stage="none") if "steady" in account.tags else None

    host = policy_host({"steady": Steady()})
    decision, decided_by = host.first("huikuan_escalation",
                                      account=account_view(tags=["steady"]), as_of=AS_OF)
    assert (decision.stage, decided_by.name, decided_by.version) == ("none", "steady", "2.1")
    _, decided_by = host.first("huikuan_escalation", account=OVERDUE, as_of=AS_OF)
    assert decided_by.name == "escalation"


def test_a_plugin_that_raises_is_reported_with_its_name_and_the_hook():
    class Broken:
        @hookimpl
        def huikuan_risk_signals(self, account):
            raise KeyError("oops")

    host = policy_host({"broken": Broken()})
    with pytest.raises(PluginFailure) as caught:
        host.collect("huikuan_risk_signals", account=OVERDUE, as_of=AS_OF)
    assert (caught.value.plugin.name, caught.value.hook) == ("broken", "huikuan_risk_signals")


def test_hook_wrappers_are_refused_when_the_plugin_is_registered():
    class Wrapper:
        @hookimpl(wrapper=True)
        def huikuan_escalation(self, account):
            return (yield)

    with pytest.raises(PluginError, match="hook wrapper"):
        policy_host({"wrapper": Wrapper()})


def test_the_rules_that_were_cores_run_whatever_plugins_toml_names():
    host = PolicyHost(Settings(sections={"huikuan": {"plugins": ["escalation"]}}),
                      load_entry_points=False)
    assert set(ALWAYS_ON) <= set(host.plugin_names)
    decision = host.decide("huikuan_credit_decision",
                           position=credit_position(supply_hold=True), amount=1)
    assert decision.allowed is False
    # Named in plugins.toml as well, each is registered once.
    named = PolicyHost(Settings(sections={"huikuan": {"plugins": ["credit", "escalation"]}}),
                       load_entry_points=False)
    assert sorted(named.plugin_names) == ["credit", "demands", "documents", "escalation",
                                          "recipients"]


def test_an_unknown_plugin_in_plugins_toml_is_a_clear_error():
    with pytest.raises(PluginError, match="neither built in nor installed"):
        PolicyHost(Settings(sections={"huikuan": {"plugins": ["nosuch"]}}),
                   load_entry_points=False)


@pytest.mark.parametrize(("name", "function"), hooks())
def test_every_hook_documents_each_parameter_its_result_and_its_version(name, function):
    doc = inspect.getdoc(function)
    for parameter in inspect.signature(function).parameters:
        assert f":param {parameter}:" in doc, f"{name} does not document {parameter}"
    assert ":returns:" in doc
    assert re.search(r"\.\. versionadded:: \d+\.\d+", doc)
    firstresult = getattr(policy_host().manager.hook, name).spec.opts["firstresult"]
    stated = "**Result:** first non-None result wins" if firstresult else (
        "**Result:** all results are collected")
    assert stated in doc, f"{name} does not state its result semantics as its spec has them"
