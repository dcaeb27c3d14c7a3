"""Recording rules from the connector's config file to the server's history.

Simulator, server and connector as separate processes on loopback. The connector's config has
[[recording]] rules; the test reads back through the REST API what the server stored:
  - active_power_total: 2 s cycles with mean, max and min (series active_power_total,
    active_power_total.max and active_power_total.min), stamped at the cycle start;
  - frequency: a dead band it never leaves, so only the first value and one per 4 s heartbeat;
  - every other signal: every 1 s poll, as without rules."""
import os
import time
import unittest

from stack import Stack, wait_for

CONFIG = """
[[recording]]
signal = "active_power_total"
cycle_ms = 2000
aggregate = ["mean", "max", "min"]

[[recording]]
signal = "frequency"
dead_band = 1000
heartbeat_ms = 4000
"""


class RecordingTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(meters=2)
        try:
            with open(os.path.join(cls.stack.dir, "edge.toml"), "w") as f:
                f.write(CONFIG)
            cls.stack.start_sim()
            cls.stack.start_server()
            cls.stack.start_edge(["--config", "edge.toml"])
            status, body = cls.stack.api.login("admin", cls.stack.admin_password())
            assert status == 200, body
            wait_for(lambda: all("active_power_total.max" in v
                                 for v in cls.stack.meters_with_values().values())
                     and len(cls.stack.meters_with_values()) == 2, 90,
                     "both meters with recorded cycle series")
            time.sleep(16)  # several cycles and heartbeats
        except Exception:
            print(cls.stack.logs())
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def history(self, ids, name, since_ms):
        return self.stack.history(ids[name], since_ms, int(time.time() * 1000) + 1000)

    def test_cycles_store_mean_max_and_min_at_the_cycle_start(self):
        since = int(time.time() * 1000) - 60_000
        for m in self.stack.api.get("/api/v1/meters"):
            ids = {s["name"]: s["id"] for s in m["signals"]}
            mean = dict(self.history(ids, "active_power_total", since))
            high = dict(self.history(ids, "active_power_total.max", since))
            low = dict(self.history(ids, "active_power_total.min", since))
            # A cycle's three values arrive in one reading, but the three queries run one after
            # the other: a cycle stored in between shows only in the later ones. Compare up to
            # the newest cycle all three have seen.
            newest = min(max(mean), max(high), max(low))
            mean, high, low = ({ts: v for ts, v in series.items() if ts <= newest}
                               for series in (mean, high, low))
            self.assertGreaterEqual(len(mean), 5, f"{m['name']}: {sorted(mean)}")
            self.assertEqual(sorted(mean), sorted(high), m["name"])
            self.assertEqual(sorted(mean), sorted(low), m["name"])
            stamps = sorted(mean)
            for ts in stamps:
                self.assertEqual(ts % 2000, 0, f"{m['name']}: {ts} is not a cycle start")
                self.assertLessEqual(low[ts], mean[ts], m["name"])
                self.assertLessEqual(mean[ts], high[ts], m["name"])
            # One value per cycle, cycles back to back while the meter answers.
            gaps = [b - a for a, b in zip(stamps, stamps[1:])]
            self.assertTrue(all(g % 2000 == 0 and g > 0 for g in gaps), gaps)
            self.assertGreaterEqual(gaps.count(2000), len(gaps) - 1, gaps)
            # The simulated power moves within a cycle: max and min differ somewhere.
            self.assertTrue(any(high[ts] > low[ts] for ts in stamps), m["name"])

    def test_dead_band_stores_only_the_heartbeat(self):
        since = int(time.time() * 1000) - 60_000
        for m in self.stack.api.get("/api/v1/meters"):
            ids = {s["name"]: s["id"] for s in m["signals"]}
            freq = [ts for ts, _ in self.history(ids, "frequency", since)]
            volts = [ts for ts, _ in self.history(ids, "voltage_l1_n", since)]
            self.assertGreaterEqual(len(freq), 3, f"{m['name']}: {freq}")
            gaps = [b - a for a, b in zip(freq, freq[1:])]
            # A heartbeat is due 4 s after the last stored value and taken at the next 1 s poll.
            self.assertTrue(all(4000 <= g <= 6000 for g in gaps), f"{m['name']}: {gaps}")
            # A signal without a rule keeps every poll: about four times as many values.
            self.assertGreater(len(volts), 3 * len(freq), f"{m['name']}: {len(volts)} vs {len(freq)}")


if __name__ == "__main__":
    unittest.main()
