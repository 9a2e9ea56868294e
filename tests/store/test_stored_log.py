"""`CaseLog(policy, store=...)`: committed before it returns, loaded on demand, command
ids pass through, a stale copy is refused and reloaded on the retry."""

from __future__ import annotations

import pytest
from conftest import POLICY
from store_traffic import DISPATCHER, T0, apply_step, desk_steps

from gridcore.cases import Action, CaseLog, StoredCaseLog
from gridcore.errors import StaleSequenceError
from gridcore.ids import AreaCode, CaseId, CategoryCode
from gridcore.store import SqlCaseStore, open_store


def _reported(log: CaseLog, cid: str = "k1") -> CaseId:
    log.report(CaseId(cid), DISPATCHER, T0, grid=AreaCode("g1"), category=CategoryCode("C0101"))
    return CaseId(cid)


def test_every_action_is_committed_before_it_returns(durable_url: str) -> None:
    """A second connection sees each action as soon as act returns."""
    with open_store(durable_url, policy=POLICY) as a, open_store(durable_url) as b:
        log = CaseLog(POLICY, store=a)
        assert isinstance(log, StoredCaseLog)
        for step in desk_steps(20, 4):
            _, event, _ = apply_step(log, step)
            assert b.events(event.case_id)[-1] == event


def test_a_loaded_log_holds_nothing_until_asked(store: SqlCaseStore) -> None:
    """CaseLog.load on a journal reads a case only when it is asked for."""
    cid = _reported(CaseLog(POLICY, store=store))
    log = CaseLog.load(store, POLICY)
    assert log._cases == {}
    log.act(cid, Action.VERIFY, DISPATCHER, T0)
    assert store.case(cid).state.value == "verified"
    assert cid in log and len(log) == 1


def test_a_repeated_command_id_returns_the_first_outcome(store: SqlCaseStore) -> None:
    """act with a command id done before: no second event, the same outcome."""
    log = CaseLog(POLICY, store=store)
    cid = _reported(log)
    first = log.act(cid, Action.VERIFY, DISPATCHER, T0, command_id="op-1")
    again = CaseLog.load(store, POLICY).act(cid, Action.VERIFY, DISPATCHER, T0, command_id="op-1")
    assert again == first
    assert len(store.events(cid)) == 2


def test_a_stale_copy_is_refused_then_the_retry_works(store: SqlCaseStore) -> None:
    """Two logs on one journal: the slower one gets StaleSequenceError, nothing written,
    and its retry acts on the stored case."""
    one = CaseLog(POLICY, store=store)
    cid = _reported(one)
    two = CaseLog.load(store, POLICY)
    two.case(cid)  # two holds the case as reported
    one.act(cid, Action.VERIFY, DISPATCHER, T0)
    with pytest.raises(StaleSequenceError):
        two.act(cid, Action.CANCEL, DISPATCHER, T0, "not there")
    assert store.case(cid).state.value == "verified"
    two.act(cid, Action.REGISTER, DISPATCHER, T0)
    assert store.case(cid).state.value == "registered"
