"""The web app of issue 6 as new users walk it, in Debian's Chromium (web/tests/issue6.browser.mjs):
the system administrator creates the tenant Acme and an engineer in it; the engineer changes the
initial password, enrols two-factor login (codes from Debian's oathtool), logs in again with a
code, claims two connectors into Acme, builds a dashboard of three widgets, opens a trend of two
signals with different units, compares two days, zooms and exports CSV, XLSX and PDF; then the
same in German. The exported files are checked here with readers we did not write: the CSV with
Python's csv module, the XLSX with python3-openpyxl, the PDF with pdftotext (poppler-utils).

Processes on loopback: wattline-sim, wattline-server, a wattline-edge started without a token
(it logs its claim code), and this test acting as a second connector through the documented
claim protocol (docs/api.md "Claiming a connector") that sends yesterday's and today's readings
of the meter hist-1 with POST /api/v1/ingest, so that there are two days to compare.
Screenshots and the exported files go to $WATTLINE_TEST_OUTPUT."""
import csv
import hashlib
import json
import math
import os
import re
import secrets
import subprocess
import threading
import time
import unittest
import uuid

from queue_files import encode_batch, encode_reading
from stack import BIN_DIR, SOURCE_DIR, Proc, Stack, wait_for

CODE_RE = re.compile(r"claim code ([2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4})")
ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
HIST_METER = "hist-1"
STEP_MS = 5 * 60_000
HOURS = 50  # two full days to compare, and a little more


def hist_power_w(ts_ms):
    """The history connector's active power in W at ts_ms: a daily wave plus a slow drift."""
    day = (ts_ms % 86_400_000) / 86_400_000
    return round(6000 + 2500 * math.sin(2 * math.pi * day) + 300 * math.sin(ts_ms / 3_600_000), 1)


def hist_voltage_v(ts_ms):
    return round(230 + 2.5 * math.sin(ts_ms / 5_400_000), 2)


class HistoryConnector:
    """A connector written here from docs/api.md: announces itself with a claim code, polls until
    an engineer claims it, then sends HOURS of readings of one meter in one batch."""

    def __init__(self, api):
        self.api = api
        self.uuid = str(uuid.uuid4())
        self.secret = secrets.token_hex(32)
        raw = "".join(secrets.choice(ALPHABET) for _ in range(8))
        self.code = f"{raw[:4]}-{raw[4:]}"
        self.name = None
        self.error = None
        self.acked = None
        self.samples = {}  # ts_ms -> (power W, voltage V)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def announce(self):
        status, body = self.api.request("POST", "/api/v1/claims", {
            "uuid": self.uuid, "code": self.code, "name": "hist",
            "secret_hash": hashlib.sha256(self.secret.encode()).hexdigest(), "version": "test"})
        if status != 200 or body.get("status") != "pending":
            raise AssertionError(f"announcement answered {status}: {body}")

    def run(self):
        try:
            token = None
            while not self.stop.is_set() and token is None:
                status, body = self.api.request("GET", f"/api/v1/claims/{self.uuid}",
                                                headers={"X-Claim-Secret": self.secret})
                if status == 200 and body.get("status") == "claimed":
                    token, self.name = body["token"], body["name"]
                elif status == 404:
                    self.announce()
                elif status not in (200, 429):
                    raise AssertionError(f"claim poll answered {status}: {body}")
                self.stop.wait(2)
            if token is None:
                return
            now = int(time.time() * 1000) // STEP_MS * STEP_MS
            readings = []
            for ts in range(now - HOURS * 3_600_000, now + 1, STEP_MS):
                p, v = hist_power_w(ts), hist_voltage_v(ts)
                self.samples[ts] = (p, v)
                readings.append(encode_reading(HIST_METER, "Python history", ts, [
                    ("active_power_total", "W", "instant", "good", p),
                    ("voltage_l1_n", "V", "instant", "good", v)]))
            status, body = self.api.request("POST", "/api/v1/ingest", encode_batch(self.name, 1, readings), headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/vnd.wattline.batch"})
            if status != 200 or body.get("acked_seq") != len(readings):
                raise AssertionError(f"ingest answered {status}: {body}")
            self.acked = body["acked_seq"]
        except Exception as e:  # reported by the test
            self.error = e


def number(text, locale):
    """A number as the export writes it in `locale` (German: decimal comma, dot grouping)."""
    t = text.strip().replace("\u00a0", "").replace("\u202f", "")
    t = t.replace(".", "").replace(",", ".") if locale == "de" else t.replace(",", "")
    return float(t)


class WebAppTest(unittest.TestCase):
    def test_admin_engineer_two_factor_connectors_dashboard_trend_exports(self):
        dist = os.path.join(SOURCE_DIR, "web", "dist", "index.html")
        self.assertTrue(os.path.exists(dist), "build the web app first: cd web && npm run build")
        out_dir = os.path.abspath(os.environ.get("WATTLINE_TEST_OUTPUT", os.path.join("test-output", "browser")))
        os.makedirs(out_dir, exist_ok=True)
        files = {"csv": "trend.csv", "xlsx": "trend.xlsx", "pdf": "trend.pdf", "csv_de": "trend-de.csv"}
        shots = ("dashboard-1440.png", "dashboard-375.png", "trend-1440.png", "trend-375.png", "trend-de-1440.png")
        for name in list(files.values()) + list(shots):
            if os.path.exists(os.path.join(out_dir, name)):
                os.remove(os.path.join(out_dir, name))
        stack = Stack(meters=2)
        hist = None
        try:
            stack.start_sim()
            stack.start_server()
            edge = Proc("edge", [
                os.path.join(BIN_DIR, "wattline-edge"), "--name", "edge-acme", "--data_dir", "edge",
                "--profiles_dir", os.path.join(SOURCE_DIR, "profiles"), "--meters_file", stack.meters_file,
                "--uplink.url", f"https://127.0.0.1:{stack.server_port}"], stack.dir)
            stack.procs["edge"] = edge
            edge_code = wait_for(lambda: CODE_RE.search(edge.output()), 60, "the connector's claim code").group(1)
            hist = HistoryConnector(stack.api)
            hist.announce()
            hist.thread.start()

            env = dict(os.environ, WATTLINE_URL=f"https://127.0.0.1:{stack.server_port}",
                       ADMIN_PASSWORD=stack.admin_password(), EDGE_CLAIM_CODE=edge_code,
                       HIST_CLAIM_CODE=hist.code, HIST_METER=HIST_METER, WATTLINE_OUT=out_dir)
            run = subprocess.run(["node", "--test", "tests/issue6.browser.mjs"], cwd=os.path.join(SOURCE_DIR, "web"),
                                 env=env, capture_output=True, text=True, timeout=300)
            print(run.stdout[-8000:], run.stderr[-3000:])
            self.assertIsNone(hist.error, f"history connector: {hist.error}")
            self.assertEqual(run.returncode, 0, "browser test failed\n" + stack.logs())
            self.assertIn("# pass", run.stdout)
            self.assertNotIn("# skipped 1", run.stdout)
            self.assertEqual(hist.name, "hist")
            self.assertEqual(hist.acked, len(hist.samples))
            for name in shots:
                self.assertGreater(os.path.getsize(os.path.join(out_dir, name)), 10000, name)

            # What the page sent to POST /api/v1/export for each file (recorded by the browser test).
            def request(kind):
                with open(os.path.join(out_dir, f"export-{kind}.json")) as f:
                    return json.load(f)
            self.check_csv(os.path.join(out_dir, files["csv"]), request("csv"), hist)
            self.check_csv(os.path.join(out_dir, files["csv_de"]), request("csv_de"), hist)
            self.check_xlsx(os.path.join(out_dir, files["xlsx"]), request("xlsx"), hist)
            self.check_pdf(os.path.join(out_dir, files["pdf"]), request("pdf"))
        finally:
            if hist:
                hist.stop.set()
            stack.close()

    def shown_power(self, req):
        """The current period's power as the page sent it: {ts_ms: kW}. The series are, per
        signal, the current period and then the compared one (the page's order)."""
        series = req["series"]
        self.assertEqual(len(series), 4, [s["name"] for s in series])
        self.assertIn(HIST_METER, series[0]["name"])
        self.assertEqual(series[0]["unit"], "kW")
        self.assertEqual(series[2]["unit"], "V")
        return {ts: v for ts, v in series[0]["points"] if v is not None}

    def power_column(self, header, req):
        """Index of the current period's power column: named like series 0, not like series 1."""
        cur, cmp = req["series"][0]["name"], req["series"][1]["name"]
        self.assertTrue(cmp.startswith(cur), (cur, cmp))
        matches = [i for i, h in enumerate(header) if cur in h and cmp not in h]
        self.assertEqual(len(matches), 1, f"columns named {cur!r} in {header}")
        return matches[0]

    def check_values(self, values, req, hist, what):
        """The exported power values are the shown ones (in order), and the history connector
        sent each of them (in W)."""
        shown = [v for _, v in sorted(self.shown_power(req).items())]
        self.assertGreater(len(shown), 20, f"{what}: only {len(shown)} power values shown")
        self.assertEqual(len(values), len(shown), f"{what}: {len(values)} power values, {len(shown)} shown")
        for got, want in zip(values, shown):
            self.assertAlmostEqual(got, want, delta=0.006, msg=what)
        sent = sorted(round(p / 1000, 4) for p, _ in hist.samples.values())
        unknown = [v for v in shown if not any(abs(v - s) < 1e-6 for s in sent)]
        self.assertEqual(unknown, [], f"{what}: the page showed power values the connector never sent")

    def check_csv(self, path, req, hist):
        locale = req["locale"]
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
        rows = [r for r in csv.reader(text.splitlines(), delimiter=";" if locale == "de" else ",") if r]
        header = rows[0]
        # One time column and one column per shown series.
        self.assertEqual(len(header), 1 + len(req["series"]), header)
        col = self.power_column(header, req)
        values = [number(r[col], locale) for r in rows[1:] if len(r) > col and r[col].strip()]
        self.check_values(values, req, hist, f"{locale} CSV")
        if locale == "de":
            self.assertRegex(text, r"\d,\d", "no decimal comma in the German CSV")

    def check_xlsx(self, path, req, hist):
        script = ("import json, sys, openpyxl\n"
                  "ws = openpyxl.load_workbook(sys.argv[1], read_only=True).worksheets[0]\n"
                  "print(json.dumps([[c if isinstance(c, (int, float, str)) or c is None else str(c) for c in r]"
                  " for r in ws.iter_rows(values_only=True)]))\n")
        out = subprocess.run(["/usr/bin/python3", "-c", script, path], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        rows = [r for r in json.loads(out.stdout) if any(c is not None for c in r)]
        cur = req["series"][0]["name"]
        header_at = next(i for i, r in enumerate(rows) if any(isinstance(c, str) and cur in c for c in r))
        header = ["" if c is None else str(c) for c in rows[header_at]]
        col = self.power_column(header, req)
        values = [r[col] for r in rows[header_at + 1:] if len(r) > col and r[col] is not None]
        self.assertTrue(all(isinstance(v, (int, float)) for v in values), "XLSX power cells are not numbers")
        self.check_values(values, req, hist, "XLSX")

    def check_pdf(self, path, req):
        out = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True, text=True, timeout=60)
        self.assertEqual(out.returncode, 0, out.stderr)
        text = out.stdout
        self.assertIn(HIST_METER, text)
        self.assertIn(req["title"].split()[0], text)
        self.assertRegex(text, r"\d\.\d", "no numbers in the PDF")


if __name__ == "__main__":
    unittest.main(verbosity=2)
