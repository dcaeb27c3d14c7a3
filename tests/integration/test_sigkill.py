"""Crash consistency of the connector: simulator, server and connector as separate processes;
the connector is killed with SIGKILL at random moments while it polls and uploads, and started
again, at least 50 times.

After every kill: the queue's ack file is read (what the connector had acknowledged when it
died) and the server must have at least that; the records still queued are noted. After every
restart: the queue reopened cleanly (log line, process alive, no error). At the end, with the
simulator stopped and the backlog drained: the server stored every seq from 1 to the
connector's last exactly once (its per-batch log lines), holds exactly one reading per seq
(no duplicate timestamps per signal, no missing reading), and every record seen queued after a
kill is there.

WATTLINE_SIGKILL_SEED fixes the random kill moments (the seed is printed);
WATTLINE_SIGKILL_COUNT changes the number of kills (default 50)."""
import os
import random
import re
import time
import unittest

from queue_files import ServerDb, decode_reading_key, read_ack, read_records, stored_ranges
from stack import Stack, wait_for

METERS = 5
KILLS = int(os.environ.get("WATTLINE_SIGKILL_COUNT", "50"))
MIN_S, MAX_S = 0.3, 2.0


class SigkillTest(unittest.TestCase):
    def setUp(self):
        self.stack = Stack(meters=METERS)
        self.addCleanup(self.stack.close)

    def fail_with_logs(self, msg):
        self.fail(msg + "\n" + self.stack.logs())

    def edge_log_since(self, offset):
        with open(os.path.join(self.stack.dir, "edge.log"), "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def edge_log_size(self):
        path = os.path.join(self.stack.dir, "edge.log")
        return os.path.getsize(path) if os.path.exists(path) else 0

    def start_edge_and_check_reopen(self, run):
        offset = self.edge_log_size()
        self.stack.start_edge()
        opened = re.compile(r"queue \S+: opened with \d+ segments, seqs up to (\d+), acked (\d+)")
        try:
            wait_for(lambda: opened.search(self.edge_log_since(offset)) and "polling" in self.edge_log_since(offset),
                     30, f"run {run}: the connector to open its queue and start polling")
        except AssertionError as e:
            self.fail_with_logs(str(e))
        if not self.stack.procs["edge"].running():
            self.fail_with_logs(f"run {run}: the connector exited at start")
        return offset

    def test_sigkill_loop_loses_and_duplicates_nothing(self):
        seed = int(os.environ.get("WATTLINE_SIGKILL_SEED", str(random.randrange(1 << 32))))
        print(f"\nSIGKILL loop: seed {seed} (WATTLINE_SIGKILL_SEED={seed} repeats it), {KILLS} kills", flush=True)
        rng = random.Random(seed)
        stack = self.stack
        stack.start_sim()
        # Debug level: the server logs the seq range of every batch it stores.
        stack.start_server(extra_args=("--log_level", "debug"))
        db = ServerDb(os.path.join(stack.dir, "server"))
        queue_dir = os.path.join(stack.dir, "edge", "queue")

        queued = {}  # seq -> (device, ts_ms) of records seen in the queue after a kill
        max_connector_ack = 0
        started = time.monotonic()
        for run in range(1, KILLS + 1):
            offset = self.start_edge_and_check_reopen(run)
            delay = rng.uniform(MIN_S, MAX_S)
            time.sleep(delay)
            proc = stack.procs.pop("edge")
            code = proc.kill()
            if code != -9:
                self.fail_with_logs(f"run {run}: the connector had already exited ({code}) when it was to be killed")
            log = self.edge_log_since(offset)
            bad = [l for l in log.splitlines() if re.match(r"\S+ (error|critical) ", l)]
            self.assertEqual(bad, [], f"run {run}: errors in the connector's log")

            acked, evicted = read_ack(queue_dir)
            self.assertEqual(evicted, 0, "nothing may be evicted with the default budget")
            self.assertGreaterEqual(acked, max_connector_ack, f"run {run}: the ack went back")
            max_connector_ack = acked
            server_acked = db.acked_seq("edge-1")
            self.assertGreaterEqual(server_acked, acked,
                                    f"run {run}: the connector acked {acked} but the server has only {server_acked}")
            for seq, payload in read_records(queue_dir, acked):
                key = decode_reading_key(payload)
                # A record cut from a torn tail may see its seq reused; one that was whole may not.
                queued[seq] = key
        print(f"{KILLS} kills in {time.monotonic() - started:.0f} s; connector ack reached {max_connector_ack}",
              flush=True)

        # Drain: no new readings (simulator stopped), let the connector send everything, stop it.
        offset = self.start_edge_and_check_reopen(KILLS + 1)
        time.sleep(1.5)
        stack.stop("sim")

        def drained():
            before = db.acked_seq("edge-1")
            time.sleep(2.5)  # more than the uplink's 1 s idle wait
            return before == db.acked_seq("edge-1") and before > 0

        wait_for(drained, 60, "the backlog to drain")
        self.assertEqual(stack.stop("edge"), 0, "the connector did not stop cleanly")
        flushed = re.search(r"queue flushed: (\d+) records stored, (\d+) not yet acknowledged",
                            self.edge_log_since(offset))
        self.assertIsNotNone(flushed, "no 'queue flushed' line")
        last_seq, pending = int(flushed.group(1)), int(flushed.group(2))
        self.assertEqual(pending, 0, "records left unacknowledged after the drain")
        self.assertEqual(db.acked_seq("edge-1"), last_seq)
        self.assertEqual(stack.stop("server"), 0, "the server did not stop cleanly")

        # Every seq stored exactly once, in order, none missing.
        with open(os.path.join(stack.dir, "server.log"), errors="replace") as f:
            server_log = f.read()
        ranges = stored_ranges(server_log, "edge-1")
        # Batches resent because a kill came between the server's answer and the connector's ack.
        resent = len(re.findall(r"connector edge-1: \d+ records were already stored", server_log))
        self.assertTrue(ranges, "no 'records a..b stored' lines in the server log")
        expected_first = 1
        for first, last in ranges:
            self.assertEqual(first, expected_first, f"stored ranges overlap or leave a gap: {ranges}")
            expected_first = last + 1
        self.assertEqual(expected_first - 1, last_seq)

        # One reading per seq: readings have distinct (meter, ts), the poller never repeats a slot.
        samples = db.samples()
        self.assertEqual(db.duplicate_samples(samples), [])
        readings = db.readings(samples)
        self.assertEqual(len(readings), last_seq, "stored readings differ from the records sent")
        counts = {}
        for (device, _), n in readings.items():
            counts.setdefault(device, set()).add(n)
        for device, ns in counts.items():
            self.assertEqual(len(ns), 1, f"{device}: readings with different numbers of samples {ns}")
        missing = {seq: key for seq, key in queued.items() if key not in readings}
        self.assertEqual(missing, {}, "records that were queued when the connector was killed never arrived")
        print(f"{last_seq} records, {sum(readings.values())} samples stored exactly once; "
              f"{len(queued)} records were queued at a kill; {resent} batches were resent and skipped",
              flush=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
