"""The web app in Debian's Chromium, driven by playwright-core (web/tests/browser.test.mjs),
against the real server fed by the real simulator and connector. Screenshots are kept in
$WATTLINE_TEST_OUTPUT (default: test-output/browser in the current folder)."""
import os
import subprocess
import unittest

from stack import SOURCE_DIR, Stack, wait_for

METERS = 10


class BrowserTest(unittest.TestCase):
    def test_login_live_meter_list_and_trend(self):
        out_dir = os.path.abspath(os.environ.get("WATTLINE_TEST_OUTPUT", os.path.join("test-output", "browser")))
        os.makedirs(out_dir, exist_ok=True)
        for name in ("meters.png", "trend.png"):
            if os.path.exists(os.path.join(out_dir, name)):
                os.remove(os.path.join(out_dir, name))
        stack = Stack(meters=METERS)
        try:
            stack.start_sim()
            stack.start_server()
            stack.start_edge()
            status, _ = stack.api.login("admin", stack.admin_password())
            self.assertEqual(status, 200)
            wait_for(lambda: len(stack.meters_with_values()) == METERS, 90, "meters with values")
            env = dict(os.environ, WATTLINE_URL=f"https://127.0.0.1:{stack.server_port}", WATTLINE_USER="admin",
                       WATTLINE_PASSWORD=stack.admin_password(), WATTLINE_OUT=out_dir,
                       WATTLINE_MIN_METERS=str(METERS))
            run = subprocess.run(["node", "--test", "tests/"], cwd=os.path.join(SOURCE_DIR, "web"), env=env,
                                 capture_output=True, text=True, timeout=240)
            print(run.stdout[-4000:], run.stderr[-2000:])
            self.assertEqual(run.returncode, 0, "browser test failed\n" + stack.logs())
            self.assertIn("# pass", run.stdout)
            self.assertNotIn("# skipped 1", run.stdout)
            for name in ("meters.png", "trend.png"):
                self.assertGreater(os.path.getsize(os.path.join(out_dir, name)), 10000, name)
        finally:
            stack.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
