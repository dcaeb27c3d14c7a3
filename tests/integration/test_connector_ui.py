"""The first run of a connector, as a new user walks it in Debian's Chromium
(web/tests/connector.browser.mjs): the forced password change, the guided initial scan that finds
20 simulated meters on their own loopback addresses (127.0.1.1-20, all on one port, as on a
LAN), a driver upload (a bad one shows its line number), meters added by hand behind a simulated
gateway, claiming the connector on a running server, and the data arriving there (the server's
own web UI shows the meters). Afterwards a meter plugged in later is found by continuous
discovery, and what the UI did survives a restart of the connector. wattline-sim,
wattline-server and wattline-edge run as separate processes on loopback. Screenshots go to
$WATTLINE_TEST_OUTPUT."""
import json
import os
import socket
import subprocess
import tomllib
import unittest
import urllib.request
import ssl
import http.cookiejar

from stack import BIN_DIR, SOURCE_DIR, Proc, Stack, wait_for

# Line 4 has a signal without an address (the first error of this file).
BAD_DRIVER = """<?xml version="1.0" encoding="UTF-8"?>
<profile vendor="Acme" model="Broken" max-registers="50" word-order="ABCD" address-base="0">
  <signal name="voltage_l1_n" fc="4" address="0x00" type="float32" unit="V"/>
  <signal name="current_l1" fc="4" type="float32" unit="A"/>
</profile>
"""
BAD_DRIVER_LINE = 4
NEW_PASSWORD = "first-run-password-42"  # as in connector.browser.mjs
LAN_FIRST = "127.0.1.1"
LAN_METERS = 20
SCAN_RANGE = "127.0.1.1-127.0.1.30"
LATE_HOST = "127.0.1.21"  # a meter plugged in after the first run
TYPES = "janitza-umg96rm-e:8,eastron-sdm630:4,abb-b23:4,carlo-gavazzi-em24:4"


def free_port(host):
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class ConnectorApi:
    """The connector's own API (docs/connector-api.md), as the UI calls it."""

    def __init__(self, base_url):
        self.base_url = base_url
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # the connector's self-signed UI certificate
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPSHandler(context=ctx), urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method, path, body=None):
        req = urllib.request.Request(self.base_url + "/api/v1" + path, method=method,
                                     data=None if body is None else json.dumps(body).encode())
        req.add_header("Content-Type", "application/json")
        req.add_header("X-Requested-With", "wattline")
        with self.opener.open(req, timeout=15) as res:
            return json.loads(res.read())


class ConnectorUiTest(unittest.TestCase):
    def test_first_run_scan_drivers_gateway_claim_and_data_on_the_server(self):
        dist = os.path.join(SOURCE_DIR, "web", "dist-connector", "index.html")
        self.assertTrue(os.path.exists(dist), "build the web UI first: cd web && npm run build")
        out_dir = os.path.abspath(os.environ.get("WATTLINE_TEST_OUTPUT", os.path.join("test-output", "browser")))
        os.makedirs(out_dir, exist_ok=True)
        stack = Stack(meters=0)
        tmp = stack.dir
        procs = []
        try:
            stack.start_server()
            profiles = os.path.join(SOURCE_DIR, "profiles")
            # The LAN: 20 meters of four types, each on its own address, all on one port.
            lan_port = free_port(LAN_FIRST)
            lan_file = os.path.join(tmp, "lan-meters.toml")
            procs.append(Proc("sim-lan", [os.path.join(BIN_DIR, "wattline-sim"), "--types", TYPES,
                                          "--host", LAN_FIRST, "--host_per_meter", "--base_port", str(lan_port),
                                          "--profiles_dir", profiles, "--meters_file", lan_file], tmp))
            wait_for(lambda: os.path.exists(lan_file), 30, "the LAN simulator's meters file")
            with open(lan_file, "rb") as f:
                lan = tomllib.load(f)["meter"]
            self.assertEqual(len(lan), LAN_METERS)
            self.assertEqual(len({m["host"] for m in lan}), LAN_METERS)

            # A gateway with two SDM630 on its RS-485 line (units 1 and 2), and one more meter.
            with open(os.path.join(tmp, "sim.toml"), "w") as f:
                f.write('[[gateway]]\nport = 0\nmeters = ["eastron-sdm630:2"]\n')
            with open(os.path.join(tmp, "bad-driver.xml"), "w") as f:
                f.write(BAD_DRIVER)
            meters_file = os.path.join(tmp, "sim-meters.toml")
            procs.append(Proc("sim", [os.path.join(BIN_DIR, "wattline-sim"), "--config", "sim.toml",
                                      "--types", "janitza-umg96rm-e:1", "--base_port", "0",
                                      "--profiles_dir", profiles, "--meters_file", meters_file], tmp))
            wait_for(lambda: os.path.exists(meters_file), 30, "the simulator's meters file")
            with open(meters_file, "rb") as f:
                sim_meters = tomllib.load(f)["meter"]
            direct = [m for m in sim_meters if m["profile"] == "janitza-umg96rm-e"]
            gateway = [m for m in sim_meters if m["profile"] == "eastron-sdm630"]
            self.assertEqual(len(direct), 1)
            self.assertEqual(len(gateway), 2)
            self.assertEqual(gateway[0]["port"], gateway[1]["port"])

            port_file = os.path.join(tmp, "web.port")
            edge_args = [os.path.join(BIN_DIR, "wattline-edge"), "--name", "edge-ui", "--data_dir", "edge",
                         "--profiles_dir", profiles, "--uplink.url", f"https://127.0.0.1:{stack.server_port}",
                         "--web.listen", "127.0.0.1:0",
                         "--web.root", os.path.join(SOURCE_DIR, "web", "dist-connector"),
                         "--web.port_file", port_file,
                         # Loopback has no broadcast: the scan covers the LAN range; 10 connects/s
                         # make the progress visible; rescans every 5 s for the late meter.
                         "--discovery.scan", SCAN_RANGE, "--discovery.ports", str(lan_port),
                         "--discovery.interfaces", "false", "--discovery.rate", "10",
                         "--discovery.scan_interval_s", "5"]
            edge = Proc("edge", edge_args, tmp)
            procs.append(edge)

            def read_port():
                if not edge.running():
                    raise AssertionError("wattline-edge exited:\n" + edge.output())
                with open(port_file) as f:
                    return f.read().strip()
            port = int(wait_for(read_port, 60, "the connector's web port"))

            env = dict(os.environ, CONNECTOR_URL=f"https://127.0.0.1:{port}", GATEWAY_PORT=str(gateway[0]["port"]),
                       DIRECT_PORT=str(direct[0]["port"]), PROFILES_DIR=profiles,
                       BAD_DRIVER=os.path.join(tmp, "bad-driver.xml"), BAD_DRIVER_LINE=str(BAD_DRIVER_LINE),
                       LAN_METERS=str(LAN_METERS), SERVER_URL=f"https://127.0.0.1:{stack.server_port}",
                       SERVER_ADMIN_PASSWORD=stack.admin_password(), WATTLINE_OUT=out_dir)
            run = subprocess.run(["node", "--test", "tests/connector.browser.mjs"], cwd=os.path.join(SOURCE_DIR, "web"),
                                 env=env, capture_output=True, text=True, timeout=420)
            print(run.stdout[-8000:], run.stderr[-2000:])
            self.assertEqual(run.returncode, 0, "browser test failed\n" + edge.output()[-6000:] + stack.logs())
            self.assertIn("# pass", run.stdout)
            self.assertNotIn("# skipped 1", run.stdout)
            for name in ("connector-scan-progress.png", "connector-scan-finish.png", "connector-meters.png",
                         "connector-driver-error.png", "connector-settings.png", "server-meters.png"):
                self.assertGreater(os.path.getsize(os.path.join(out_dir, name)), 5000, name)

            # The server has every meter of the claimed connector: the 20 found by the scan, the
            # two behind the gateway and direct-1, whose readings from before its removal were
            # queued while the connector was not claimed yet (nothing is lost).
            status, _ = stack.api.login("admin", stack.admin_password())
            self.assertEqual(status, 200)
            with open(os.path.join(tmp, "edge", "meters.toml"), "rb") as f:
                expected = {m["key"] for m in tomllib.load(f)["meter"]} | {"direct-1"}
            self.assertEqual(len(expected), LAN_METERS + 3)

            def server_meters():
                mine = {m["name"] for m in stack.api.get("/api/v1/meters") if m["connector"] == "edge-ui"}
                return mine if mine >= expected else None
            mine = wait_for(server_meters, 60, "the connector's meters on the server")
            self.assertEqual(mine, expected)

            # Continuous discovery: a meter plugged in later is found and polled without anyone
            # asking (within a minute; the test rescans every 5 s).
            late_file = os.path.join(tmp, "late-meter.toml")
            procs.append(Proc("sim-late", [os.path.join(BIN_DIR, "wattline-sim"), "--types", "eastron-sdm120:1",
                                           "--host", LATE_HOST, "--base_port", str(lan_port), "--seed", "99",
                                           "--profiles_dir", profiles, "--meters_file", late_file], tmp))
            wait_for(lambda: os.path.exists(late_file), 30, "the late meter")
            connector = ConnectorApi(f"https://127.0.0.1:{port}")
            connector.call("POST", "/login", {"username": "admin", "password": NEW_PASSWORD})

            def late_meter_polled():
                for m in connector.call("GET", "/meters")["meters"]:
                    if m.get("host") == LATE_HOST and m["status"]["state"] == "ok":
                        return m
                return None
            late = wait_for(late_meter_polled, 60, "the meter plugged in later, found and polled")
            self.assertEqual(late["profile"], "eastron-sdm120")

            # What the UI did is on disk, and survives a restart of the connector.
            with open(os.path.join(tmp, "edge", "meters.toml"), "rb") as f:
                saved = {m["key"]: m for m in tomllib.load(f)["meter"]}
            self.assertEqual(len(saved), LAN_METERS + 3, sorted(saved))
            self.assertEqual(saved["gw-unit1"]["profile"], "custom-sdm630")
            self.assertEqual({m["host"] for m in saved.values() if m["host"].startswith("127.0.1.")},
                             {m["host"] for m in lan} | {LATE_HOST})
            self.assertTrue(os.path.exists(os.path.join(tmp, "edge", "drivers", "custom-sdm630.xml")))
            self.assertFalse(os.path.exists(os.path.join(tmp, "edge", "drivers", "broken-driver.xml")))
            self.assertEqual(edge.stop(), 0, edge.output()[-4000:])
            procs.remove(edge)
            os.remove(port_file)
            edge = Proc("edge2", edge_args, tmp)
            procs.append(edge)
            wait_for(read_port, 60, "the restarted connector's web port")
            wait_for(lambda: f"polling {LAN_METERS + 3} meters" in edge.output(), 30,
                     f"the restarted connector polling {LAN_METERS + 3} meters")
            wait_for(lambda: "was claimed as 'edge-ui'" in edge.output(), 30, "the stored claim")
        finally:
            for p in reversed(procs):
                try:
                    p.stop()
                except Exception:
                    pass
            stack.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
