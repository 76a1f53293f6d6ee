"""Hand-made mutants of the pool, transport, connection and executor, and the tests that kill them.

Run ``python tests/mutants.py`` (or name some mutants) from the repository root with
the project's virtual environment: each mutant is applied to the source, its killing
tests are run, and the source is restored.  A mutant *survives* when those tests still
pass.  docs/reliability.md keeps the table this prints.

Not collected by pytest (the name does not start with ``test_``).
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutant:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]
    note: str = ""


MUTANTS = [
    Mutant(
        "keep a cancelled blocking command's connection open",
        "asyncpool/connection.py",
        '                self.close(ConnectionError("blocking command cancelled"))',
        "                pass",
        ("tests/test_pool_cancellation.py::test_cancelled_blpop_does_not_swallow_a_later_push",),
    ),
    Mutant(
        "drop the connection a leaving waiter was handed",
        "asyncpool/pool/waiting.py",
        "                self._pass_on(fut.result())  # handed to us as we left: give it on",
        "                pass",
        ("tests/test_pool_cancellation.py::test_cancel_during_acquire_never_strands_a_permit",),
    ),
    Mutant(
        "ignore connection_lost for idle connections",
        "asyncpool/pool/pool.py",
        '        """The peer closed a connection: drop it at once if it is idle."""\n',
        '        """The peer closed a connection: drop it at once if it is idle."""\n'
        "        return\n",
        ("tests/test_pool_upkeep.py::test_server_closed_idle_connection_is_never_lent",),
    ),
    Mutant(
        "transport never reports connection_lost upward",
        "asyncpool/transport.py",
        "        if callback is not None:\n            callback(reason)",
        "        if callback is not None:\n            pass",
        ("tests/test_pool_upkeep.py::test_server_closed_idle_connection_is_never_lent",),
    ),
    Mutant(
        "drop the drain of replies owed to departed callers",
        "asyncpool/pool/health.py",
        "                await conn.protocol.wait_drained()",
        "                pass",
        (
            "tests/test_pool_cancellation.py::test_a_connection_owing_a_reply_is_lent_only_once_drained",
        ),
    ),
    Mutant(
        "skip the reset of dirty state (WATCH, MULTI, SELECT)",
        "asyncpool/pool/health.py",
        "                if conn.is_dirty:\n                    await conn.reset()",
        "                pass",
        (
            "tests/test_transaction.py::test_exception_while_watching_releases_and_resets",
            "tests/test_pool_lending.py",
        ),
    ),
    Mutant(
        "off by one on the bound (dial at total == max)",
        "asyncpool/pool/ledger.py",
        "        return self.total < self.max",
        "        return self.total <= self.max",
        ("tests/test_pool_faults.py::test_bound_holds_while_dialing_under_load",),
    ),
    Mutant(
        "skip the discard of a connection returned broken",
        "asyncpool/pool/pool.py",
        '            self._discard(conn, "broken" if conn.is_closed else "replies switched off")',
        "            pass",
        ("tests/test_pool_faults.py::test_blackhole_times_out_and_discards_the_connection",),
    ),
    Mutant(
        "a freed slot grants no permit to the queue",
        "asyncpool/pool/pool.py",
        '        log.debug("closed %r: %s", conn, why)\n        self._grant_permits()',
        '        log.debug("closed %r: %s", conn, why)',
        ("tests/test_pool_cancellation.py::test_cancel_during_acquire_never_strands_a_permit",),
    ),
    Mutant(
        "a failed dial keeps its slot",
        "asyncpool/pool/dialing.py",
        "        if task.cancelled() or task.exception() is not None:\n"
        "            self._ledger.free()",
        "        if task.cancelled() or task.exception() is not None:\n            pass",
        ("tests/test_pool_faults.py::test_failed_dials_give_their_slot_back",),
    ),
    Mutant(
        "a lost connection does not fail its waiters",
        "asyncpool/transport.py",
        "        reason = self.close_reason\n        self._fail_waiters(reason)",
        "        reason = self.close_reason",
        ("tests/test_pool_faults.py::test_kill_9_fails_fast_then_recovers_without_user_action",),
    ),
    Mutant(
        "a timed-out reply leaves its connection open",
        "asyncpool/connection.py",
        "            self._note_error(exc)\n            self.close(exc)\n            raise",
        "            self._note_error(exc)\n            raise",
        ("tests/test_pool_faults.py::test_blackhole_times_out_and_discards_the_connection",),
    ),
    Mutant(
        "MULTI is not tracked as connection state",
        "asyncpool/session.py",
        '    if name == "MULTI":\n        return session.replace(multi=True)',
        '    if name == "MULTI":\n        return session',
        ("tests/test_pool_lending.py::test_connection_released_inside_multi_is_reset",),
    ),
    Mutant(
        "a stateful command cancelled before its reply leaves no mark",
        "asyncpool/connection.py",
        "                # may be in MULTI, on another db ... so the connection must be reset\n"
        "                self._session = self._session.replace(changed=True)",
        "                # may be in MULTI, on another db ... so the connection must be reset\n"
        "                pass",
        ("tests/test_pool_lending.py::test_cancelled_multi_is_reset_before_reuse",),
    ),
    Mutant(
        "retry a write whose outcome is unknown",
        "asyncpool/client/executing.py",
        "                    if sent and not exc.request_not_sent and not op.retry_safe:",
        "                    if False:",
        (
            "tests/test_client_core.py::"
            "test_non_idempotent_write_is_not_retried_after_the_request_was_sent",
        ),
    ),
    Mutant(
        "the executor never checks the connection back in",
        "asyncpool/client/executing.py",
        "                        else:\n                            lender.give_back(conn)\n",
        "                        else:\n                            pass\n",
        ("tests/test_pool_faults.py::test_bound_holds_while_dialing_under_load",),
    ),
    Mutant(
        "any push may answer a request (stray confirmation)",
        "asyncpool/transport.py",
        "                        or waiters[0] not in self._confirmable\n",
        "",
        ("tests/test_hostile_server.py::test_a_stray_subscribe_confirmation_is_not_a_get_reply",),
    ),
    Mutant(
        "an idle connection is lent to another event loop",
        "asyncpool/pool/pool.py",
        " or self._loop is not _running_loop():",
        ":",
        ("tests/test_event_loops.py",),
    ),
    Mutant(
        "a forked child is treated like another thread (no fork detection)",
        "asyncpool/pool/loops.py",
        "    if old is not None and _BOUND_IN.get(pool, pid) != pid:",
        "    if False:",
        (
            "tests/test_event_loops.py::"
            "test_a_forked_child_dials_its_own_and_leaves_the_parents_alone",
        ),
    ),
    Mutant(
        "close() during a dial: the caller sees the dial's cancellation",
        "asyncpool/pool/dialing.py",
        "            await asyncio.wait((task,))",
        "            await asyncio.shield(task)",
        ("tests/test_pool_lending.py::test_aclose_during_dials_fails_callers_with_pool_closed",),
    ),
    Mutant(
        "discarding a connection whose close raises loses the slot",
        "asyncpool/pool/pool.py",
        "        except Exception:\n"
        '            log.debug("closing %r raised", conn, exc_info=True)\n'
        "        finally:\n"
        "            self._transit.discard(conn)",
        "        finally:\n            pass\n"
        "        if True:\n            self._transit.discard(conn)",
        ("tests/test_pool_lending.py::test_a_connection_whose_close_raises_still_frees_its_slot",),
    ),
    Mutant(
        "a reset task cancelled before its first step keeps its slot",
        "asyncpool/pool/health.py",
        '            self._discard(conn, "clean-up cancelled")',
        "            pass",
        ("tests/test_pool_lending.py::test_close_right_after_a_dirty_release_frees_the_slot",),
    ),
    Mutant(
        "hiredis path: bulk terminators unchecked",
        "asyncpool/resp/hiredis_parser.py",
        "        if not (suspicious or clean) and (bad := self._bulks.check(scanned, base)) >= 0:",
        "        if False and (bad := self._bulks.check(scanned, base)) >= 0:",
        ("tests/test_hostile_server.py::test_bulk_string_without_its_crlf_is_a_protocol_error",),
    ),
    Mutant(
        "the handshake drops the server's refusal",
        "asyncpool/handshake.py",
        "            if isinstance(reply, ResponseError):\n                raise ConnectionError(",
        "            if False:\n                raise ConnectionError(",
        ("tests/test_pool_faults.py::test_server_refusal_at_maxclients_reaches_the_caller",),
    ),
    Mutant(
        "the observer never hears that an operation failed",
        "asyncpool/client/executing.py",
        "            error = exc\n            raise\n        finally:\n"
        "            if observer is not None:\n",
        "            raise\n        finally:\n            if observer is not None:\n",
        ("tests/test_otel.py::test_failed_operations_carry_error_type_and_status_code",),
    ),
    Mutant(
        "blocking and state-changing commands ride shared connections",
        "asyncpool/client/executing.py",
        "(not plain or op.info.exclusive)",
        "(not plain)",
        (
            "tests/test_sharing.py::"
            "test_blocking_and_state_changing_commands_keep_a_connection_to_themselves",
        ),
    ),
    Mutant(
        "a batching observer's operation duration is dropped",
        "asyncpool/client/executing.py",
        "                                pending.append(seconds)\n",
        "",
        (
            "tests/test_observer_calls.py::"
            "test_a_batching_observer_gets_successful_commands_appended_not_called",
        ),
    ),
    Mutant(
        "a drained shared connection is never handed back",
        "asyncpool/pool/sharing.py",
        "            protocol.on_drained = partial(self._give_back, conn)",
        "                pass",
        ("tests/test_sharing.py::test_when_the_last_rider_leaves_the_connection_still_comes_back",),
    ),
    Mutant(
        "a shared connection cut after its riders left is never handed back",
        "asyncpool/transport.py",
        "            self._loop.call_soon(self.on_drained)",
        "            pass",
        (
            "tests/test_sharing.py::test_a_cut_under_departed_riders_still_hands_the_connection_back",
        ),
    ),
    Mutant(
        "the reply of a departed caller breaks its connection",
        "asyncpool/transport.py",
        "                    except asyncio.InvalidStateError:",
        "                    except KeyError:",
        ("tests/test_sharing.py::test_a_cancelled_riders_reply_is_dropped_not_delivered",),
    ),
    Mutant(
        "a busy shared connection past its lifetime keeps taking riders",
        "asyncpool/pool/sharing.py",
        "and (self._rides & 63 or time.monotonic() < conn.retire_at)",
        "and True",
        ("tests/test_sharing.py::test_a_connection_past_its_lifetime_gets_no_new_riders",),
    ),
    Mutant(
        "a timed-out shared reply leaves its connection open under the others",
        "asyncpool/pool/sharing.py",
        "            conn.close(ConnectionError("
        'f"shared connection closed after a reply timed out: {exc}"))\n',
        "",
        ("tests/test_sharing.py::test_a_timed_out_reply_closes_the_connection_under_every_rider",),
    ),
    Mutant(
        "a lone caller's connection is never handed back",
        "asyncpool/pool/sharing.py",
        "        conn.last_used_at = time.monotonic()\n        self._pool.give_back(conn)\n",
        "        conn.last_used_at = time.monotonic()\n",
        (
            "tests/test_sharing_alone.py::"
            "test_a_serial_caller_sends_alone_and_hands_its_connection_back",
        ),
    ),
    Mutant(
        "a command riding behind a lone caller does not set its connection up for sharing",
        "asyncpool/pool/sharing.py",
        "                self._last_protocol = self._register(conn)",
        "                self._last_protocol = conn.protocol_or_none",
        (
            "tests/test_sharing_alone.py::"
            "test_a_command_riding_behind_a_lone_caller_keeps_the_connection_lent",
        ),
    ),
    Mutant(
        "a rider that resumes late takes the connection lent alone again for its own",
        "asyncpool/client/executing.py",
        "if ride is sharing.alone:",
        "if sharing.alone is not None and ride[0] is sharing.alone[0]:",
        (
            "tests/test_sharing_alone.py::"
            "test_a_late_lone_caller_does_not_hand_back_a_connection_lent_again",
        ),
        "killed when the four replies come back in one read, as they do on loopback",
    ),
    Mutant(
        "a command rides behind a lone caller whose connection has closed",
        "asyncpool/pool/sharing.py",
        " and _usable(alone[0], pool._generation):",
        ":",
        (
            "tests/test_sharing_alone.py::"
            "test_a_lone_callers_connection_closed_after_its_reply_gets_no_riders",
        ),
    ),
    Mutant(
        "a lone caller that stops waiting leaves its connection lent",
        "asyncpool/pool/sharing.py",
        "        if ride is self.alone:  # from now on it is shared like any other",
        "        if False:",
        (
            "tests/test_sharing_alone.py::"
            "test_a_cancelled_lone_caller_leaves_a_connection_that_comes_back_in_step",
            "tests/test_sharing_alone.py::"
            "test_a_lone_callers_timeout_closes_its_connection_and_frees_the_slot",
        ),
    ),
    Mutant(
        "a malformed reply read with good ones leaves the callers behind it waiting",
        "asyncpool/transport.py",
        "            if parser.failed is not None:  # malformed after the replies above\n"
        "                raise parser.failed\n",
        "",
        (
            "tests/test_hostile_server.py::"
            "test_a_reply_read_with_a_malformed_one_reaches_its_caller_and_the_rest_fail",
        ),
    ),
    Mutant(
        "the pool also times a lease the executor times",
        "asyncpool/pool/pool.py",
        "self._observer is None or not timed else time.monotonic()",
        "self._observer is None else time.monotonic()",
        ("tests/test_observer_calls.py::test_each_command_and_each_lease_is_reported_once",),
    ),
    Mutant(
        "a retried command's first lease is never reported",
        "asyncpool/client/executing.py",
        "                if untimed:  # the first lease ended; the operation goes on\n"
        "                    untimed = _report_use(observer, observed_pool, started)\n"
        "                await asyncio.sleep",
        "                await asyncio.sleep",
        ("tests/test_observer_calls.py::test_a_retried_command_reports_both_leases",),
    ),
    Mutant(
        "a redirected command's first lease is never reported",
        "asyncpool/client/executing.py",
        "                        if untimed:  # the first lease ended; the operation goes on\n"
        "                            untimed = _report_use(observer, observed_pool, started)\n",
        "",
        ("tests/test_observer_calls.py::test_a_redirected_command_reports_the_lease_it_left",),
    ),
    Mutant(
        "a ride's success is recorded in its batch and again by the finally block",
        "asyncpool/client/executing.py",
        " " * 32 + "observer = None  # recorded: nothing left for the finally block\n",
        "",
        ("tests/test_otel.py::test_use_time_and_operation_duration_per_command",),
    ),
    Mutant(
        "a batched success records a constant instead of its duration",
        "asyncpool/client/executing.py",
        "                                pending.append(seconds)\n",
        "                                pending.append(0.0)\n",
        ("tests/test_otel.py::test_use_time_and_operation_duration_per_command",),
    ),
    Mutant(
        "a batch is never folded",
        "asyncpool/client/executing.py",
        "                                if len(pending) >= batch.fold_at:",
        "                                if False:",
        (
            "tests/test_observer_calls.py::"
            "test_a_batching_observer_gets_successful_commands_appended_not_called",
        ),
    ),
    Mutant(
        "check-in takes a connection with changed session state as clean",
        "asyncpool/connection.py",
        "            and (session is self._baseline or session == self._baseline)",
        "            and True",
        ("tests/test_pool_lending.py::test_connection_released_inside_multi_is_reset",),
    ),
    Mutant(
        "leaving async with pool.acquire() never checks the connection in",
        "asyncpool/pool/pool.py",
        "            return False\n        self._checkin(conn)\n        return True",
        "            return False\n        return True",
        ("tests/test_pool_lending.py::test_connection_released_inside_multi_is_reset",),
    ),
    Mutant(
        "follow a sentinel that flags the primary down",
        "asyncpool/sentinel/nodes.py",
        "            if usable(info) and epoch >= min_epoch:",
        "            if epoch >= min_epoch:",
        ("tests/test_sentinel.py::test_a_sentinel_that_flags_the_primary_down_is_passed_over",),
    ),
    Mutant(
        "a lagging sentinel's answer undoes a switch event",
        "asyncpool/sentinel/nodes.py",
        "            if usable(info) and epoch >= min_epoch:",
        "            if usable(info):",
        ("tests/test_sentinel.py::test_answers_older_than_a_switch_event_are_ignored",),
    ),
    Mutant(
        "an answer asked for before a switch event undoes it",
        "asyncpool/sentinel/service.py",
        "        if events != self._events:",
        "        if False:",
        (
            "tests/test_sentinel_failover.py"
            "::test_an_answer_asked_for_before_a_switch_event_does_not_undo_it",
        ),
    ),
    Mutant(
        "leave a known primary for one every sentinel flags down",
        "asyncpool/sentinel/service.py",
        "        if not current and not self._disproved:",
        "        if False:",
        (
            "tests/test_sentinel.py"
            "::test_a_known_primary_is_not_left_for_one_every_sentinel_flags_down",
        ),
    ),
    Mutant(
        "keep a primary that said READONLY for want of a current answer",
        "asyncpool/sentinel/service.py",
        "        if not current and not self._disproved:",
        "        if not current:",
        ("tests/test_sentinel_failover.py::test_readonly_from_a_demoted_primary_rediscovers",),
    ),
    Mutant(
        "a primary disproved by ROLE keeps the sentinels' answers ignored",
        "asyncpool/sentinel/service.py",
        "            self._min_epoch = self._epoch  # the news we followed was wrong",
        "            pass",
        ("tests/test_sentinel.py::test_answers_older_than_a_switch_event_are_ignored",),
    ),
    Mutant(
        "shared connections never reroute the riders behind a large reply",
        "asyncpool/pool/sharing.py",
        "            protocol.on_congested = conn.reroute_riders\n",
        "",
        (
            "tests/test_sharing_reroute.py::test_reads_behind_a_large_reply_are_sent_again_elsewhere",
        ),
    ),
    Mutant(
        "a rerouted write is sent again",
        "asyncpool/pool/sharing.py",
        "            if command.info.read_only and command.retry_safe and not self._pool._closed:",
        "            if command.retry_safe or True:",
        (
            "tests/test_sharing_reroute.py::test_writes_behind_a_large_reply_wait_for_their_own_reply",
        ),
    ),
    Mutant(
        "a reply past its read deadline is cancelled, not timed out",
        "asyncpool/deadlines.py",
        "                fut.set_exception(TimeoutError(",
        "                fut.cancel() or (",
        (
            "tests/test_sharing.py::test_a_timed_out_reply_closes_the_connection_under_every_rider",
            "tests/test_pool_faults.py::test_blackhole_times_out_and_discards_the_connection",
        ),
    ),
    Mutant(
        "a rerouted reply loses its read deadline",
        "asyncpool/connection.py",
        "        if moved:\n            self.deadlines.moved(moved)",
        "        if False:\n            self.deadlines.moved(moved)",
        ("tests/test_sharing_reroute.py::test_reroute_moves_each_reply_and_its_read_deadline",),
    ),
    Mutant(
        "a congested connection still takes a rider behind a lone caller",
        "asyncpool/pool/sharing.py",
        "        and not conn.congested\n",
        "",
        ("tests/test_sharing_reroute.py::test_a_congested_connection_takes_no_new_riders",),
    ),
    Mutant(
        "the connection written last takes riders while congested",
        "asyncpool/pool/sharing.py",
        "                and not protocol.congested\n",
        "",
        (
            "tests/test_sharing_reroute.py::test_reads_behind_a_large_reply_are_sent_again_elsewhere",
        ),
    ),
    Mutant(
        "a large reply arriving while writes are paused reroutes nobody",
        "asyncpool/transport.py",
        "                if before < CONGESTED_REPLY_BYTES <= received:  # once per large reply",
        "                if received >= CONGESTED_REPLY_BYTES and not self.congested:",
        (
            "tests/test_sharing_reroute.py::"
            "test_a_large_reply_reroutes_even_while_writes_are_paused",
        ),
    ),
    Mutant(
        "a large reply never counts as congestion",
        "asyncpool/transport.py",
        "                if before < CONGESTED_REPLY_BYTES <= received:  # once per large reply",
        "                if False:",
        (
            "tests/test_sharing_reroute.py::test_reads_behind_a_large_reply_are_sent_again_elsewhere",
        ),
    ),
    Mutant(
        "the rerouted-reads metric reports another counter",
        "asyncpool/otel/_sharing.py",
        "        lambda s: s.rerouted_total,",
        "        lambda s: s.queued_total,",
        ("tests/test_otel_sharing.py::test_sharing_metrics_are_the_policys_counters",),
    ),
]


def run(mutant: Mutant) -> bool | None:
    """Apply ``mutant``, run its tests, restore; True when the tests failed (killed).

    ``None`` when the code to mutate is not found once (it moved: update the mutant).
    """
    path = ROOT / mutant.path
    source = path.read_text()
    if source.count(mutant.old) != 1:
        return None
    path.write_text(source.replace(mutant.old, mutant.new))
    try:
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:randomly", *mutant.tests],
            cwd=ROOT,
            capture_output=True,
            timeout=600,
        )
    except subprocess.TimeoutExpired:
        return True  # hung: a user would notice too
    finally:
        path.write_text(source)
    return result.returncode != 0


def main(names: list[str]) -> int:
    chosen = [m for m in MUTANTS if not names or any(n in m.name for n in names)]
    survivors = 0
    print("| mutant | file | killed by | result |\n|---|---|---|---|")
    for mutant in chosen:
        killed = run(mutant)
        survivors += not killed
        tests = ", ".join(f"`{t.removeprefix('tests/')}`" for t in mutant.tests)
        verdict = {True: "killed", False: "SURVIVED", None: "NOT FOUND"}[killed]
        print(f"| {mutant.name} | `{mutant.path}` | {tests} | {verdict} |", flush=True)
    return 1 if survivors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
