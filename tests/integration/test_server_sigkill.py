"""Crash consistency of the server (issue 5): simulator, server and connector as separate
processes; the server is killed with SIGKILL at random moments while the connector delivers,
and started again on the same port, at least 50 times.

Every round: the server restarts cleanly (port file, process alive, no error or data-loss line),
its WAL replay is logged, and it acknowledges newer records than it had when it was killed (so
every round really ingests; its acknowledgement never goes back). At the end, with the simulator
stopped, the connector drained and both stopped cleanly, `wattline-server dump-samples` must
show every reading the connector ever queued exactly once and whole: no (signal, ts) twice, as
many distinct (meter, ts) readings as the connector appended records (nothing evicted), every
reading with one sample per signal of its meter, every record still in the connector's segment
files among them, and at least one "historian: replayed N samples" line with N > 0.

Then the server is started once more and its 15-minute rollups (GET .../aggregates) of a few
signals must agree with the raw samples: count, min and max of every interval.

WATTLINE_SERVER_SIGKILL_SEED fixes the random kill moments (the seed is printed);
WATTLINE_SERVER_SIGKILL_COUNT changes the number of kills (default 50)."""
import os
import random
import re
import sqlite3
import time
import unittest

from queue_files import ServerDb, decode_reading_key, read_ack, read_records, stored_ranges
from stack import Stack, wait_for

METERS = 10
KILLS = int(os.environ.get("WATTLINE_SERVER_SIGKILL_COUNT", "50"))
MIN_S, MAX_S = 0.3, 2.5
# Debug level: the server logs the seq range of every batch it stores.
SERVER_ARGS = ("--log_level", "debug")
REPLAYED = re.compile(r"historian: replayed (\d+) samples")
BAD_LINE = re.compile(r"\S+ (error|critical) ")
DATA_LOSS = re.compile(r"data[ _]loss", re.IGNORECASE)


class ServerSigkillTest(unittest.TestCase):
    def setUp(self):
        self.stack = Stack(meters=METERS)
        self.addCleanup(self.stack.close)
        self.server_log = os.path.join(self.stack.dir, "server.log")

    def fail_with_logs(self, msg):
        self.fail(msg + "\n" + self.stack.logs())

    def server_log_since(self, offset):
        with open(self.server_log, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def check_server_log(self, text, what):
        bad = [l for l in text.splitlines() if BAD_LINE.match(l) or DATA_LOSS.search(l)]
        if bad:
            self.fail_with_logs(f"{what}: error or data-loss lines in the server's log:\n" + "\n".join(bad))

    def start_server(self, run):
        """Starts the server on the port of the first run; returns its log offset."""
        offset = os.path.getsize(self.server_log) if os.path.exists(self.server_log) else 0
        try:
            self.stack.start_server(extra_args=SERVER_ARGS)
        except AssertionError as e:
            self.fail_with_logs(f"run {run}: {e}")
        if not self.stack.procs["server"].running():
            self.fail_with_logs(f"run {run}: the server exited at start")
        return offset

    def wait_for_ack_above(self, db, seq, run):
        try:
            return wait_for(lambda: (lambda a: a if a > seq else 0)(db.acked_seq("edge-1")), 60,
                            f"run {run}: the server to acknowledge records above {seq}", interval=0.1)
        except AssertionError as e:
            self.fail_with_logs(str(e))

    def signals_per_device(self, server_dir):
        with sqlite3.connect(os.path.join(server_dir, "config.db"), timeout=10) as db:
            return dict(db.execute("SELECT devices.key, COUNT(signals.id) FROM signals"
                                   " JOIN devices ON devices.id = signals.device_id GROUP BY devices.key"))

    def test_server_sigkill_loop_loses_and_duplicates_nothing(self):
        seed = int(os.environ.get("WATTLINE_SERVER_SIGKILL_SEED", str(random.randrange(1 << 32))))
        print(f"\nserver SIGKILL loop: seed {seed} (WATTLINE_SERVER_SIGKILL_SEED={seed} repeats it), "
              f"{KILLS} kills", flush=True)
        rng = random.Random(seed)
        stack = self.stack
        server_dir = os.path.join(stack.dir, "server")
        queue_dir = os.path.join(stack.dir, "edge", "queue")
        db = ServerDb(server_dir)
        started = time.monotonic()

        stack.start_sim()
        self.start_server(0)
        stack.start_edge()
        acked = self.wait_for_ack_above(db, 0, 0)

        replays = []  # N of each "replayed N samples" line, one per restart that replayed
        restart_s, catch_up_s = [], []
        for run in range(1, KILLS + 1):
            time.sleep(rng.uniform(MIN_S, MAX_S))
            proc = stack.procs.pop("server")
            code = proc.kill()
            if code != -9:
                self.fail_with_logs(f"run {run}: the server had already exited ({code}) when it was to be killed")
            at_kill = db.acked_seq("edge-1")
            self.assertGreaterEqual(at_kill, acked, f"run {run}: the server's acknowledgement went back")

            t0 = time.monotonic()
            offset = self.start_server(run)
            t1 = time.monotonic()
            acked = self.wait_for_ack_above(db, at_kill, run)
            restart_s.append(t1 - t0)
            catch_up_s.append(time.monotonic() - t1)
            log = self.server_log_since(offset)
            self.check_server_log(log, f"run {run}")
            replays += [int(n) for n in REPLAYED.findall(log)]
        kill_loop_s = time.monotonic() - started
        print(f"{KILLS} kills in {kill_loop_s:.0f} s; restart {sum(restart_s) / len(restart_s):.2f} s "
              f"(max {max(restart_s):.2f}), new ack after {sum(catch_up_s) / len(catch_up_s):.2f} s "
              f"(max {max(catch_up_s):.2f}) on average; server ack reached {acked}", flush=True)

        # Drain: no new readings (simulator stopped), let the connector send everything, stop it.
        stack.stop("sim")

        def drained():
            before = db.acked_seq("edge-1")
            time.sleep(2.5)  # more than the uplink's 1 s idle wait
            return before == db.acked_seq("edge-1") and before > 0

        try:
            wait_for(drained, 60, "the backlog to drain")
        except AssertionError as e:
            self.fail_with_logs(str(e))
        edge = stack.procs["edge"]
        self.assertEqual(stack.stop("edge"), 0, "the connector did not stop cleanly")
        flushed = re.search(r"queue flushed: (\d+) records stored, (\d+) not yet acknowledged", edge.output())
        self.assertIsNotNone(flushed, "no 'queue flushed' line in the connector's log")
        last_seq, pending = int(flushed.group(1)), int(flushed.group(2))
        self.assertEqual(pending, 0, "records left unacknowledged after the drain")
        queue_ack, evicted = read_ack(queue_dir)
        self.assertEqual(evicted, 0, "nothing may be evicted with the default budget")
        self.assertEqual(queue_ack, last_seq, "the connector's ack file differs from its last seq")
        self.assertEqual(db.acked_seq("edge-1"), last_seq)
        self.assertEqual(stack.stop("server"), 0, "the server did not stop cleanly")

        with open(self.server_log, errors="replace") as f:
            server_log = f.read()
        self.check_server_log(server_log, "whole run")
        self.assertTrue(any(n > 0 for n in replays),
                        f"no 'historian: replayed N samples' line with N > 0 after {KILLS} kills")
        # A batch is logged after its ack is committed: ranges never overlap (a gap is a kill
        # between the commit and the log line).
        ranges = stored_ranges(server_log, "edge-1")
        self.assertTrue(ranges, "no 'records a..b stored' lines in the server log")
        for (_, prev_last), (first, _) in zip(ranges, ranges[1:]):
            self.assertGreater(first, prev_last, f"a record was stored twice: {ranges}")

        values = {}
        samples = db.samples(values)
        self.assertEqual(db.duplicate_samples(samples), [], "samples stored twice")
        readings = db.readings(samples)
        self.assertEqual(len({device for device, _ in readings}), METERS)
        self.assertEqual(len(readings), last_seq, "stored readings differ from the records the connector queued")
        signals = self.signals_per_device(server_dir)
        partial = {key: (n, signals[key[0]]) for key, n in readings.items() if n != signals[key[0]]}
        self.assertEqual(partial, {}, "readings with fewer samples than their meter has signals")
        in_queue = [decode_reading_key(payload) for _, payload in read_records(queue_dir)]
        missing = [key for key in in_queue if key not in readings]
        self.assertEqual(missing, [], "records in the connector's queue never arrived")
        # The rollups, written while the server was being killed, agree with the raw samples.
        self.start_server("final")
        status, _ = stack.api.login("admin", stack.admin_password())
        self.assertEqual(status, 200)
        checked = 0
        for signal_id in sorted(values)[:5]:
            raw = sorted(values[signal_id])
            body = stack.api.get(f"/api/v1/signals/{signal_id}/aggregates?interval=15min"
                                 f"&from={raw[0][0]}&to={raw[-1][0] + 1}")
            aggs = body["aggregates"]
            self.assertEqual(sum(a["count"] for a in aggs), len(raw), f"signal {signal_id}: rollup counts")
            for a in aggs:
                inside = [v for ts, v in raw if a["start_ms"] <= ts < a["end_ms"]]
                self.assertEqual(a["count"], len(inside), f"signal {signal_id}: {a}")
                if inside:
                    self.assertEqual((a["min"], a["max"]), (min(inside), max(inside)), f"signal {signal_id}: {a}")
            checked += 1
        self.assertEqual(checked, 5)
        self.assertEqual(stack.stop("server"), 0, "the server did not stop cleanly")
        print(f"server SIGKILL: {KILLS} kills, {len(readings)} readings, {len(samples)} samples stored exactly "
              f"once, {len(replays)} replays (largest {max(replays, default=0)} samples), "
              f"{time.monotonic() - started:.0f} s", flush=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
