"""Claiming a connector: a connector with only a server URL (no token, no certificate) shows a
claim code, an administrator claims it through the server's API, and the data of the simulated
meters arrives; after a restart the connector sends again without being claimed anew. The
certificate it trusted on first use stays pinned: a server with another one gets nothing.

Runs simulator, server and connector as separate processes on loopback (stack.py)."""
import hashlib
import json
import os
import re
import ssl
import stat
import time
import unittest

from stack import BIN_DIR, SOURCE_DIR, Proc, Stack, wait_for

METERS = 3
CODE_RE = re.compile(r"waiting to be claimed on \S+ with claim code ([2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4})")
CSRF = {"X-Requested-With": "wattline"}


def fingerprint(cert_path):
    with open(cert_path) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


class ClaimingTest(unittest.TestCase):
    def setUp(self):
        self.stack = Stack(meters=METERS)
        self.stack.start_sim()
        self.stack.start_server()
        status, body = self.stack.api.login("admin", self.stack.admin_password())
        self.assertEqual(status, 200, body)

    def tearDown(self):
        self.stack.close()

    def start_unclaimed_edge(self):
        """The connector with only uplink.url: no token, no server certificate."""
        self.stack.procs["edge"] = Proc("edge", [
            os.path.join(BIN_DIR, "wattline-edge"), "--name", "edge-new", "--data_dir", "edge",
            "--profiles_dir", os.path.join(SOURCE_DIR, "profiles"),
            "--meters_file", self.stack.meters_file,
            "--uplink.url", f"https://127.0.0.1:{self.stack.server_port}"], self.stack.dir)
        return self.stack.procs["edge"]

    def claim(self, body, headers=CSRF):
        return self.stack.api.request("POST", "/api/v1/connectors/claim", body, headers)

    def identity(self):
        with open(os.path.join(self.stack.dir, "edge", "identity.json")) as f:
            return json.load(f)

    def test_claim_then_data_arrives_and_survives_a_restart(self):
        try:
            self.claim_then_data_arrives_and_survives_a_restart()
        except Exception:
            print(self.stack.logs())
            raise

    def claim_then_data_arrives_and_survives_a_restart(self):
        edge = self.start_unclaimed_edge()
        code = wait_for(lambda: CODE_RE.search(edge.output()), 60, "the connector's claim code").group(1)

        # Unclaimed: the connector polls and queues, the server has nothing from it.
        identity_path = os.path.join(self.stack.dir, "edge", "identity.json")
        self.assertEqual(stat.S_IMODE(os.stat(identity_path).st_mode), 0o600)
        self.assertEqual(self.identity()["claim_code"], code)
        self.assertEqual(self.identity()["token"], "")
        # Trust on first use: the pinned fingerprint is the server's certificate.
        self.assertEqual(self.identity()["server_fingerprint"], fingerprint(self.stack.cert))
        wait_for(lambda: os.listdir(os.path.join(self.stack.dir, "edge", "queue")), 20, "queue files")
        self.assertEqual(self.stack.api.get("/api/v1/meters"), [])

        # Refused: a wrong code, a missing CSRF header.
        wrong = code[:-1] + ("2" if code[-1] != "2" else "3")
        status, body = self.claim({"code": wrong, "name": "edge-claimed"})
        self.assertEqual(status, 404, body)
        self.assertEqual(body["error"]["code"], "not_found")
        status, body = self.claim({"code": code, "name": "edge-claimed"}, headers={})
        self.assertEqual(status, 403, body)

        status, record = self.claim({"code": code.lower(), "name": "edge-claimed"})
        self.assertEqual(status, 201, record)
        self.assertEqual(record["name"], "edge-claimed")
        self.assertEqual(record["server_fingerprint"], self.identity()["server_fingerprint"])
        self.assertEqual(record["tenant"]["name"], "default")
        # The code is used up.
        status, _ = self.claim({"code": code, "name": "edge-other"})
        self.assertEqual(status, 404)

        def all_meters_from_claimed_connector():
            meters = self.stack.api.get("/api/v1/meters")
            mine = [m for m in meters if m["connector"] == "edge-claimed"]
            return len(mine) == METERS and len(self.stack.meters_with_values()) == METERS
        wait_for(all_meters_from_claimed_connector, 40, f"{METERS} meters from the claimed connector")
        self.assertEqual(self.identity()["name"], "edge-claimed")
        self.assertNotEqual(self.identity()["token"], "")
        connectors = {c["name"]: c for c in self.stack.api.get("/api/v1/connectors")}
        self.assertIn("edge-claimed", connectors)
        self.assertIsNotNone(connectors["edge-claimed"]["claimed_at_ms"])
        self.assertEqual(connectors["edge-claimed"]["uuid"], self.identity()["uuid"])

        # Restart: the stored credential is used at once, no claim code is shown.
        self.assertEqual(self.stack.stop("edge"), 0)
        restart_ms = int(time.time() * 1000)
        first_run = len(edge.output())
        edge = self.start_unclaimed_edge()  # appends to the same log file
        wait_for(lambda: "was claimed as 'edge-claimed'" in edge.output()[first_run:], 30,
                 "the claimed identity")

        def newest_ts():
            return max(v["ts_ms"] for v in self.stack.api.get("/api/v1/latest"))
        wait_for(lambda: newest_ts() > restart_ms + 1000, 40, "data sent after the restart")
        self.assertIsNone(CODE_RE.search(edge.output()[first_run:]),
                          "the restarted connector asked to be claimed")
        self.assertEqual(len([c for c in self.stack.api.get("/api/v1/connectors")
                              if c["name"].startswith("edge-")]), 2)  # edge-1 (config) + claimed

    def test_replaced_server_certificate_is_refused(self):
        try:
            self.replaced_server_certificate_is_refused()
        except Exception:
            print(self.stack.logs())
            raise

    def replaced_server_certificate_is_refused(self):
        edge = self.start_unclaimed_edge()
        code = wait_for(lambda: CODE_RE.search(edge.output()), 60, "the connector's claim code").group(1)
        status, record = self.claim({"code": code, "name": "edge-pinned"})
        self.assertEqual(status, 201, record)
        wait_for(lambda: len(self.stack.meters_with_values()) == METERS, 40, "data from the connector")
        old_fingerprint = fingerprint(self.stack.cert)

        # The same server (same database, same port) with a new self-signed certificate: a
        # stand-in for someone in the middle. The connector must not send to it.
        self.stack.stop("server")
        edge_log_at_switch = len(edge.output())
        for name in ("server.crt", "server.key"):
            os.remove(os.path.join(self.stack.dir, "server", "tls", name))
        self.stack.api = None
        self.stack.start_server()
        self.assertNotEqual(fingerprint(self.stack.cert), old_fingerprint)
        restart_ms = int(time.time() * 1000)
        status, body = self.stack.api.login("admin", self.stack.admin_password())
        self.assertEqual(status, 200, body)
        wait_for(lambda: "certificate rejected" in edge.output()[edge_log_at_switch:], 30,
                 "the connector to refuse the new certificate")
        time.sleep(2)
        newest = max(v["ts_ms"] for v in self.stack.api.get("/api/v1/latest"))
        self.assertLess(newest, restart_ms, "the connector sent data to a server with another certificate")
        self.assertTrue(edge.running())


if __name__ == "__main__":
    unittest.main()
