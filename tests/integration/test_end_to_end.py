"""From meter to server: simulator, connector and server as separate processes on loopback.

Asserts through the REST API that every simulated meter has values, that a meter's imported
energy grows by the integral of its power, that bad input is refused without harm, and that a
60 s server outage loses and duplicates no sample.

Soak: WATTLINE_OUTAGE_S sets the outage's length, e.g. ten minutes (README, "Development"):
  WATTLINE_OUTAGE_S=600 python3 -m unittest -v test_end_to_end.EndToEndTest"""
import json
import os
import ssl
import time
import unittest

from stack import Stack, TOKEN, wait_for

METERS = 10
OUTAGE_S = int(os.environ.get("WATTLINE_OUTAGE_S", "60"))


def signal_ids(meters_json, name):
    return {m["name"]: {s["name"]: s["id"] for s in m["signals"]} for m in meters_json}[name]


def float32_ulp(x):
    """Spacing of float32 values near x: the resolution of a float32 register."""
    import math
    m, e = math.frexp(abs(x) or 1.0)
    return 2.0 ** (e - 24)


class EndToEndTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(meters=METERS)
        try:
            cls.stack.start_sim()
            cls.stack.start_server()
            cls.stack.start_edge()
            status, body = cls.stack.api.login("admin", cls.stack.admin_password())
            assert status == 200, body
            wait_for(lambda: len(cls.stack.meters_with_values()) == METERS, 90, f"{METERS} meters with values")
        except Exception:
            print(cls.stack.logs())
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def fail_with_logs(self, msg):
        self.fail(msg + "\n" + self.stack.logs())

    def test_1_every_meter_has_plausible_values(self):
        values = self.stack.meters_with_values()
        self.assertEqual(len(values), METERS)
        now_ms = time.time() * 1000
        for name, v in values.items():
            for signal in ("voltage_l1_n", "current_l1", "active_power_total", "frequency",
                           "active_energy_import", "cos_phi_l1"):
                self.assertIn(signal, v, f"{name} lacks {signal}")
            self.assertTrue(200 < v["voltage_l1_n"]["value"] < 260, v["voltage_l1_n"])
            self.assertTrue(49 < v["frequency"]["value"] < 51, v["frequency"])
            self.assertLess(now_ms - v["active_power_total"]["ts_ms"], 30000, f"{name} values are stale")
            # P = U * I * cos phi per phase, as read from the meter's registers (float32).
            p = v["active_power_l1"]["value"]
            uic = v["voltage_l1_n"]["value"] * v["current_l1"]["value"] * v["cos_phi_l1"]["value"]
            self.assertAlmostEqual(p, uic, delta=max(1.0, abs(p) * 1e-3), msg=name)

    def test_2_imported_energy_grows_by_the_integral_of_power(self):
        meters = self.stack.api.get("/api/v1/meters")
        time.sleep(30)  # let 30+ s of samples accumulate
        now_ms = int(time.time() * 1000)
        checked = 0
        for m in meters:
            ids = {s["name"]: s["id"] for s in m["signals"]}
            power = self.stack.history(ids["active_power_total"], now_ms - 120000, now_ms)
            energy = {ts: v for ts, v in self.stack.history(ids["active_energy_import"], now_ms - 120000, now_ms)}
            power = [(ts, v) for ts, v in power if ts in energy]
            self.assertGreater(len(power), 25, f"{m['name']}: too few samples")
            if any(v <= 0 for _, v in power):
                continue  # exporting (PV) meters count export, not import
            integral_wh = sum((t1 - t0) / 3.6e6 * (p0 + p1) / 2
                              for (t0, p0), (t1, p1) in zip(power, power[1:]))
            delta_wh = energy[power[-1][0]] - energy[power[0][0]]
            # 1 % of the energy, plus the float32 register's resolution at both ends.
            tolerance = 0.01 * integral_wh + 2 * float32_ulp(energy[power[-1][0]])
            self.assertAlmostEqual(delta_wh, integral_wh, delta=tolerance,
                                   msg=f"{m['name']}: counter grew {delta_wh} Wh, power integral {integral_wh} Wh")
            checked += 1
        self.assertGreater(checked, 0, "no importing meter to check")

    def test_2b_chart_and_rollups_agree_with_the_raw_samples(self):
        m = self.stack.api.get("/api/v1/meters")[0]
        ids = {s["name"]: s["id"] for s in m["signals"]}
        now_ms = int(time.time() * 1000)
        start = now_ms - 20 * 60_000
        raw = self.stack.history(ids["active_power_total"], start, now_ms)
        self.assertGreater(len(raw), 25)
        # The chart keeps the extremes and stays within its point budget.
        chart = self.stack.api.get(f"/api/v1/signals/{ids['active_power_total']}/chart?from={start}&to={now_ms}&points=10")
        self.assertLessEqual(len(chart["points"]), 10)
        values = [v for _, v in chart["points"]]
        self.assertEqual(max(values), max(v for _, v in raw))
        self.assertEqual(min(values), min(v for _, v in raw))
        # 15-minute rollups (minor intervals in the server's zone) count every raw sample, and a
        # counter's consumption is the growth of its readings.
        body = self.stack.api.get(f"/api/v1/signals/{ids['active_power_total']}/aggregates"
                                  f"?interval=15min&from={start}&to={now_ms}")
        self.assertEqual(body["interval"], "minor")  # "15min" is its other name
        aggs = body["aggregates"]
        self.assertGreater(len(aggs), 0)
        first, last = aggs[0]["start_ms"], aggs[-1]["end_ms"]
        in_range = self.stack.history(ids["active_power_total"], first, last)
        self.assertEqual(sum(a["count"] for a in aggs), len(in_range))
        for a in aggs:
            inside = [v for ts, v in in_range if a["start_ms"] <= ts < a["end_ms"]]
            self.assertEqual(a["count"], len(inside))
            if inside:
                self.assertEqual(a["min"], min(inside))
                self.assertEqual(a["max"], max(inside))
                self.assertTrue(a["min"] <= a["mean"] <= a["max"], a)
            self.assertNotIn("consumption", a)  # not a counter
        energy = self.stack.api.get(f"/api/v1/signals/{ids['active_energy_import']}/aggregates"
                                    f"?interval=hour&from={start}&to={now_ms}")["aggregates"]
        readings = self.stack.history(ids["active_energy_import"], energy[0]["start_ms"], energy[-1]["end_ms"])
        total = sum(a["consumption"] for a in energy)
        self.assertAlmostEqual(total, readings[-1][1] - readings[0][1], delta=1e-6 * readings[-1][1] + 1)
        status, body = self.stack.api.request(
            "GET", f"/api/v1/signals/{ids['active_power_total']}/aggregates?interval=fortnight&from=0&to=1")
        self.assertEqual(status, 400, body)
        status, body = self.stack.api.request(
            "GET", f"/api/v1/signals/{ids['active_power_total']}/aggregates?interval=hour&minmax_from=day&from=0&to=1")
        self.assertEqual(status, 400, body)
        status, body = self.stack.api.request(
            "GET", f"/api/v1/signals/{ids['active_power_total']}/chart?from=0&to=1&points=1")
        self.assertEqual(status, 400, body)

    def test_3_bad_input_is_refused_and_logged(self):
        api = self.stack.api
        status, body = api.login("admin", "wrong-password")
        self.assertEqual(status, 401)
        self.assertEqual(body["error"]["code"], "unauthenticated")
        status, body = api.request("POST", "/api/v1/ingest", b"\x00garbage",
                                   {"Authorization": "Bearer " + TOKEN,
                                    "Content-Type": "application/vnd.wattline.batch"})
        self.assertEqual(status, 400)
        self.assertEqual(body["error"]["code"], "invalid_argument")
        status, _ = api.request("POST", "/api/v1/ingest", b"WLB", {"Authorization": "Bearer wrong"})
        self.assertEqual(status, 401)
        status, body = api.request("GET", "/api/v1/signals/1/history?from=abc&to=1")
        self.assertEqual(status, 400)
        status, body = api.request("GET", "/api/v1/signals/999999/history?from=0&to=1")
        self.assertEqual(status, 404)
        # Raw garbage instead of HTTP, a path outside the web root, an oversized body and a
        # WebSocket upgrade without a session: each refused, none brings the server down.
        self.assertTrue(self.raw_exchange(b"\x16\x03garbage\r\n\r\n").startswith(b"HTTP/1.1 400"))
        answer = self.raw_exchange(b"GET /../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertNotIn(b"root:", answer)
        answer = self.raw_exchange(b"GET /%2e%2e/%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")
        self.assertNotIn(b"root:", answer)
        big = b"POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"
        self.assertTrue(self.raw_exchange(big).startswith(b"HTTP/1.1 413"))
        ws = (b"GET /api/v1/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.assertTrue(self.raw_exchange(ws).startswith(b"HTTP/1.1 401"))
        # The server logged the bad batch and still serves.
        wait_for(lambda: "malformed batch" in self.stack.procs["server"].output(), 10, "the bad-batch log line")
        self.assertEqual(len(self.stack.meters_with_values()), METERS)

    def raw_exchange(self, request):
        """Sends raw bytes over TLS and returns what the server answers before it closes."""
        import socket
        with socket.create_connection(("127.0.0.1", self.stack.server_port), timeout=10) as sock:
            with self.stack.api.ctx.wrap_socket(sock, server_hostname="127.0.0.1") as tls:
                tls.sendall(request)
                chunks = []
                try:
                    while True:
                        data = tls.recv(65536)
                        if not data:
                            break
                        chunks.append(data)
                        if b"\r\n\r\n" in b"".join(chunks):
                            break
                except (OSError, ssl.SSLError):
                    pass
                return b"".join(chunks)

    def test_4_server_outage_loses_and_duplicates_nothing(self):
        meters = self.stack.api.get("/api/v1/meters")
        before_ms = int(time.time() * 1000)
        code = self.stack.stop("server")
        self.assertEqual(code, 0, "server did not shut down cleanly")
        time.sleep(OUTAGE_S)
        self.stack.start_server()
        status, body = self.stack.api.login("admin", self.stack.admin_password())
        self.assertEqual(status, 200, body)
        restart_ms = int(time.time() * 1000)

        # The connector sends its backlog; wait until every meter is past the restart.
        def caught_up():
            v = self.stack.meters_with_values()
            return len(v) == METERS and all(x["active_power_total"]["ts_ms"] > restart_ms + 2000 for x in v.values())
        # The uplink's backoff is at most 30 s; then the backlog goes out at full speed.
        wait_for(caught_up, 90 + OUTAGE_S // 2, "the connector's backlog to arrive")

        start = (before_ms // 1000 - 10) * 1000
        end = (restart_ms // 1000 + 2) * 1000
        for m in meters:
            for s in m["signals"]:
                points = self.stack.history(s["id"], start, end)
                ts = [p[0] for p in points]
                self.assertEqual(ts, sorted(set(ts)), f"{m['name']}/{s['name']}: duplicate or unordered samples")
                gaps = [(a, b) for a, b in zip(ts, ts[1:]) if b - a != 1000]
                self.assertEqual(gaps, [], f"{m['name']}/{s['name']}: samples missing around the outage")
                # Slots are whole seconds plus a per-meter offset below one second.
                self.assertTrue(start <= ts[0] < start + 1000, f"{m['name']}/{s['name']}: first sample {ts[0]}")
                self.assertGreaterEqual(ts[-1], end - 1000, f"{m['name']}/{s['name']}: last sample")

    def test_5_clean_shutdown_flushes_the_queue(self):
        code = self.stack.stop("edge")
        self.assertEqual(code, 0)
        with open(self.stack.dir + "/edge.log") as f:
            self.assertIn("queue flushed", f.read())


if __name__ == "__main__":
    unittest.main(verbosity=2)
