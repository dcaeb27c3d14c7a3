"""The queue's disk budget end to end: the connector runs with a tiny budget (4 segments of 16 KiB,
about 15 s of 5 meters' readings) while the server is down for 30 s. The oldest queued readings
are evicted and reported as data loss in the connector's log and ack file; when the server is
back it gets the newest readings (from the end of the hole on, every second), the hole is
exactly the evicted records, and nothing is stored twice. (The uplink's backoff may retry up to
16 s after the server is back, so the kept window can end after the outage.)"""
import os
import re
import time
import unittest

from queue_files import ServerDb, read_ack, stored_ranges
from stack import Stack, wait_for

METERS = 5
SEGMENT_BYTES = 16384
MAX_BYTES = 4 * SEGMENT_BYTES
OUTAGE_S = 30


class DiskBudgetTest(unittest.TestCase):
    def setUp(self):
        self.stack = Stack(meters=METERS)
        self.addCleanup(self.stack.close)

    def edge_log(self):
        with open(os.path.join(self.stack.dir, "edge.log"), errors="replace") as f:
            return f.read()

    def test_full_budget_evicts_the_oldest_and_delivers_the_newest(self):
        stack = self.stack
        stack.start_sim()
        stack.start_server(extra_args=("--log_level", "debug"))
        stack.start_edge(extra_args=("--queue_segment_bytes", str(SEGMENT_BYTES),
                                     "--queue_max_bytes", str(MAX_BYTES)))
        db = ServerDb(os.path.join(stack.dir, "server"))
        queue_dir = os.path.join(stack.dir, "edge", "queue")
        status, body = stack.api.login("admin", stack.admin_password())
        self.assertEqual(status, 200, body)
        try:
            wait_for(lambda: len(stack.meters_with_values()) == METERS, 60, "every meter on the server")
        except AssertionError as e:
            self.fail(f"{e}\n{stack.logs()}")
        time.sleep(3)

        self.assertEqual(stack.stop("server"), 0)
        down_ms = int(time.time() * 1000)
        time.sleep(OUTAGE_S)
        stack.start_server(extra_args=("--log_level", "debug"))
        up_ms = int(time.time() * 1000)
        status, body = stack.api.login("admin", stack.admin_password())
        self.assertEqual(status, 200, body)

        def caught_up():
            v = stack.meters_with_values()
            return len(v) == METERS and all(x["active_power_total"]["ts_ms"] > up_ms + 2000 for x in v.values())
        try:
            wait_for(caught_up, 90, "the connector's backlog to arrive")
        except AssertionError as e:
            self.fail(f"{e}\n{stack.logs()}")

        # Stop producing, drain, stop: everything still queued is on the server.
        stack.stop("sim")

        def drained():
            before = db.acked_seq("edge-1")
            time.sleep(2.5)
            return before == db.acked_seq("edge-1")
        wait_for(drained, 60, "the queue to drain")
        self.assertEqual(stack.stop("edge"), 0)
        flushed = re.search(r"queue flushed: (\d+) records stored, (\d+) not yet acknowledged", self.edge_log())
        self.assertIsNotNone(flushed)
        last_seq, pending = int(flushed.group(1)), int(flushed.group(2))
        self.assertEqual(pending, 0)

        # The loss is reported: each eviction logged with its count, the total in the ack file.
        log = self.edge_log()
        # Evicted records of the batch in flight that reached the server are taken off again.
        logged = [int(n) for n in re.findall(r"disk budget of \d+ bytes full: evicted (\d+) unsent records", log)]
        self.assertTrue(logged, "no eviction was logged:\n" + stack.logs())
        credited = [int(n) for n in re.findall(r"(\d+) evicted records \(seqs \d+\.\.\d+\) of the batch in "
                                                r"flight reached the server after all", log)]
        _, evicted = read_ack(queue_dir)
        self.assertEqual(sum(logged) - sum(credited), evicted)
        self.assertGreater(evicted, 5 * METERS, "expected more than 5 s of readings to be evicted")
        self.assertTrue(all(" error " in l for l in log.splitlines() if "unsent records" in l))

        # The server stored each seq at most once, in order; what it lacks is exactly the evicted.
        with open(os.path.join(stack.dir, "server.log"), errors="replace") as f:
            ranges = stored_ranges(f.read(), "edge-1")
        prev = 0
        gaps = 0
        for first, last in ranges:
            self.assertGreater(first, prev, f"seqs stored twice: {ranges}")
            gaps += first - prev - 1
            prev = last
        self.assertEqual(prev, last_seq)
        self.assertEqual(gaps, evicted, f"the server's gaps differ from the evicted count: {ranges}")
        samples = db.samples()
        self.assertEqual(db.duplicate_samples(samples), [])
        readings = db.readings(samples)
        self.assertEqual(len(readings), last_seq - evicted)

        # Per meter: one hole, which starts with the outage (what was sent before it is all there)
        # and ends well inside it (its oldest readings are the ones lost); from there on every
        # second up to the last reading is there (the newest data arrived).
        per_meter = {}
        for device, ts in readings:
            per_meter.setdefault(device, []).append(ts)
        self.assertEqual(len(per_meter), METERS)
        for device, ts in sorted(per_meter.items()):
            ts.sort()
            holes = [(a, b) for a, b in zip(ts, ts[1:]) if b - a != 1000]
            self.assertEqual(len(holes), 1, f"{device}: expected exactly one hole, got {holes}")
            (a, b), = holes
            self.assertGreater(a, down_ms - 5000, f"{device}: readings before the outage are missing")
            self.assertGreater(b, down_ms + 3000, f"{device}: the oldest readings were not evicted")
            self.assertLess(a, b)
            print(f"{device}: lost {(b - a) // 1000 - 1} s from {(a - down_ms) / 1000:+.1f} s after the "
                  f"server stopped; kept {(ts[-1] - b) // 1000 + 1} s up to the end", flush=True)

if __name__ == "__main__":
    unittest.main(verbosity=2)
