"""The connector's web UI in Debian's Chromium (web/tests/connector.browser.mjs): first login
with the forced password change, drivers uploaded (a bad one shows its line number), meters added
by hand (two behind a simulated gateway) and polled, a driver in use refused, a meter removed.
wattline-sim and wattline-edge run as separate processes on loopback; the connector has no
server (it only polls and queues). Screenshots go to $WATTLINE_TEST_OUTPUT."""
import os
import shutil
import subprocess
import tempfile
import tomllib
import unittest

from stack import BIN_DIR, SOURCE_DIR, Proc, wait_for

# Line 4 has a signal without an address (the first error of this file).
BAD_DRIVER = """<?xml version="1.0" encoding="UTF-8"?>
<profile vendor="Acme" model="Broken" max-registers="50" word-order="ABCD" address-base="0">
  <signal name="voltage_l1_n" fc="4" address="0x00" type="float32" unit="V"/>
  <signal name="current_l1" fc="4" type="float32" unit="A"/>
</profile>
"""
BAD_DRIVER_LINE = 4


class ConnectorUiTest(unittest.TestCase):
    def test_first_run_meters_and_drivers(self):
        dist = os.path.join(SOURCE_DIR, "web", "dist-connector", "index.html")
        self.assertTrue(os.path.exists(dist), "build the web UI first: cd web && npm run build")
        out_dir = os.path.abspath(os.environ.get("WATTLINE_TEST_OUTPUT", os.path.join("test-output", "browser")))
        os.makedirs(out_dir, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix="wattline-ui-")
        procs = []
        try:
            with open(os.path.join(tmp, "sim.toml"), "w") as f:
                f.write('[[gateway]]\nport = 0\nmeters = ["eastron-sdm630:2"]\n')
            with open(os.path.join(tmp, "bad-driver.xml"), "w") as f:
                f.write(BAD_DRIVER)
            meters_file = os.path.join(tmp, "sim-meters.toml")
            procs.append(Proc("sim", [os.path.join(BIN_DIR, "wattline-sim"), "--config", "sim.toml",
                                      "--types", "janitza-umg96rm-e:1", "--base_port", "0",
                                      "--profiles_dir", os.path.join(SOURCE_DIR, "profiles"),
                                      "--meters_file", meters_file], tmp))
            wait_for(lambda: os.path.exists(meters_file), 30, "the simulator's meters file")
            with open(meters_file, "rb") as f:
                sim_meters = tomllib.load(f)["meter"]
            direct = [m for m in sim_meters if m["profile"] == "janitza-umg96rm-e"]
            gateway = [m for m in sim_meters if m["profile"] == "eastron-sdm630"]
            self.assertEqual(len(direct), 1)
            self.assertEqual(len(gateway), 2)
            self.assertEqual(gateway[0]["port"], gateway[1]["port"])

            port_file = os.path.join(tmp, "web.port")
            edge = Proc("edge", [os.path.join(BIN_DIR, "wattline-edge"), "--name", "edge-ui", "--data_dir", "edge",
                                 "--profiles_dir", os.path.join(SOURCE_DIR, "profiles"), "--uplink.url", "",
                                 "--web.listen", "127.0.0.1:0",
                                 "--web.root", os.path.join(SOURCE_DIR, "web", "dist-connector"),
                                 "--web.port_file", port_file], tmp)
            procs.append(edge)

            def read_port():
                if not edge.running():
                    raise AssertionError("wattline-edge exited:\n" + edge.output())
                with open(port_file) as f:
                    return f.read().strip()
            port = int(wait_for(read_port, 60, "the connector's web port"))

            env = dict(os.environ, CONNECTOR_URL=f"https://127.0.0.1:{port}", GATEWAY_PORT=str(gateway[0]["port"]),
                       DIRECT_PORT=str(direct[0]["port"]), PROFILES_DIR=os.path.join(SOURCE_DIR, "profiles"),
                       BAD_DRIVER=os.path.join(tmp, "bad-driver.xml"), BAD_DRIVER_LINE=str(BAD_DRIVER_LINE),
                       WATTLINE_OUT=out_dir)
            run = subprocess.run(["node", "--test", "tests/connector.browser.mjs"], cwd=os.path.join(SOURCE_DIR, "web"),
                                 env=env, capture_output=True, text=True, timeout=300)
            print(run.stdout[-6000:], run.stderr[-2000:])
            self.assertEqual(run.returncode, 0, "browser test failed\n" + edge.output()[-6000:])
            self.assertIn("# pass", run.stdout)
            self.assertNotIn("# skipped 1", run.stdout)
            for name in ("connector-meters.png", "connector-driver-error.png", "connector-settings.png"):
                self.assertGreater(os.path.getsize(os.path.join(out_dir, name)), 5000, name)

            # What the UI did is on disk, and survives a restart of the connector.
            with open(os.path.join(tmp, "edge", "meters.toml"), "rb") as f:
                saved = {m["key"]: m for m in tomllib.load(f)["meter"]}
            self.assertEqual(sorted(saved), ["gw-unit1", "gw-unit2"])
            self.assertEqual(saved["gw-unit1"]["profile"], "custom-sdm630")
            self.assertTrue(os.path.exists(os.path.join(tmp, "edge", "drivers", "custom-sdm630.xml")))
            self.assertFalse(os.path.exists(os.path.join(tmp, "edge", "drivers", "broken-driver.xml")))
            self.assertEqual(edge.stop(), 0, edge.output()[-4000:])
            procs.remove(edge)
            os.remove(port_file)
            edge = Proc("edge2", [os.path.join(BIN_DIR, "wattline-edge"), "--name", "edge-ui", "--data_dir", "edge",
                                  "--profiles_dir", os.path.join(SOURCE_DIR, "profiles"), "--uplink.url", "",
                                  "--web.listen", "127.0.0.1:0", "--web.port_file", port_file], tmp)
            procs.append(edge)
            wait_for(read_port, 60, "the restarted connector's web port")
            wait_for(lambda: "polling 2 meters" in edge.output(), 30, "the restarted connector polling 2 meters")
        finally:
            for p in reversed(procs):
                try:
                    p.stop()
                except Exception:
                    pass
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    unittest.main(verbosity=2)
