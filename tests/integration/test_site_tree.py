"""Site tree over HTTP (docs/api.md "Site tree"): an engineer builds a tree with a simulated
meter, manual meters and a virtual meter, an operator enters manual readings, and the
consumption of every node matches what this test computes on its own from the readings it sent
and the meter's raw history. Roles, refusals and the audit trail are checked on the way.

Runs simulator, server and connector as separate processes on loopback (stack.py)."""
import time
import unittest
import urllib.parse

from stack import Api, Stack, wait_for

CSRF = {"X-Requested-With": "wattline"}
DAY_MS = 86_400_000
HOUR_MS = 3_600_000


class SiteTreeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(meters=1)
        try:
            s = cls.stack
            s.start_sim()
            s.start_server()
            s.start_edge()
            status, _ = s.api.login("admin", s.admin_password())
            assert status == 200, status
            wait_for(lambda: len(s.meters_with_values()) == 1, 90, "the meter's values")
            cls.admin = s.api
            cls.engineer = cls._user("eng", "engineer")
            cls.operator = cls._user("op", "operator")
            cls.viewer = cls._user("view", "viewer")
        except Exception:
            cls.stack.close()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    @classmethod
    def _user(cls, name, role):
        root = cls.admin
        status, created = root.request("POST", "/api/v1/users",
                                       {"username": name, "password": "First-Password-1", "role": role}, CSRF)
        assert status == 201, created
        api = Api(root.base_url, cls.stack.cert)
        status, _ = api.login(name, "First-Password-1")
        assert status == 200, status
        status, _ = api.request("POST", "/api/v1/me/password",
                                {"current": "First-Password-1", "new": "Second-Password-2"}, CSRF)
        assert status == 204, status
        return api

    def node(self, parent, kind, name, **extra):
        body = {"parent_id": parent, "kind": kind, "name": name, **extra}
        status, node = self.engineer.request("POST", "/api/v1/tree/nodes", body, CSRF)
        self.assertEqual(status, 201, node)
        self.assertEqual(node["name"], name)
        return node

    def reading(self, api, node_id, ts_ms, value):
        return api.request("POST", f"/api/v1/tree/nodes/{node_id}/readings",
                           {"ts_ms": ts_ms, "value": value}, CSRF)

    def consumption(self, node_id, from_ms, to_ms, interval="day"):
        q = urllib.parse.urlencode({"from": from_ms, "to": to_ms, "interval": interval})
        return self.viewer.get(f"/api/v1/tree/nodes/{node_id}/consumption?{q}")

    @staticmethod
    def expected_days(readings):
        """{day start: kWh} as the counter's growth: each reading adds its rise over the one before
        it to its own day; the first reading's day is there with 0."""
        out = {}
        previous = None
        for ts, value in sorted(readings):
            day = ts // DAY_MS * DAY_MS
            out[day] = out.get(day, 0.0) + (0.0 if previous is None else value - previous)
            previous = value
        return out

    def test_tree_consumption_readings_and_refusals(self):
        s = self.stack
        meter = self.admin.get("/api/v1/meters")[0]
        # The energy signal: the first counter in Wh or kWh of the meter, by id.
        energy = min((sig for sig in meter["signals"]
                      if sig["kind"] == "counter" and sig["unit"] in ("Wh", "kWh")), key=lambda x: x["id"])

        campus = self.node(None, "site", "Campus")
        lab = self.node(campus["id"], "building", "Lab")
        board = self.node(lab["id"], "distribution_board", "DB-1")
        real = self.node(board["id"], "meter", "Main meter", device_id=meter["id"])
        self.assertEqual(real["energy_signal"]["id"], energy["id"])
        self.assertEqual(real["meter"]["name"], meter["name"])
        gas = self.node(lab["id"], "meter", "Heat pump", manual=True)
        sub = self.node(campus["id"], "meter", "Canteen", manual=True)
        self.assertEqual(gas["energy_signal"]["unit"], "kWh")
        self.assertEqual(gas["meter"]["connector"], "")
        virtual = self.node(campus["id"], "virtual_meter", "Lab without canteen",
                            terms=[{"node_id": lab["id"], "sign": 1}, {"node_id": sub["id"], "sign": -1}])

        # Who may do what.
        status, _ = self.reading(self.viewer, gas["id"], 0, 1)
        self.assertEqual(status, 403)
        status, _ = self.operator.request("POST", "/api/v1/tree/nodes",
                                          {"parent_id": None, "kind": "site", "name": "x"}, CSRF)
        self.assertEqual(status, 403)
        status, body = self.engineer.request("POST", "/api/v1/tree/nodes",
                                             {"parent_id": real["id"], "kind": "building", "name": "x"}, CSRF)
        self.assertEqual(status, 409, body)

        # Manual readings over the last days, in kWh.
        now = int(time.time() * 1000)
        day0 = now // DAY_MS * DAY_MS - 5 * DAY_MS
        gas_readings = [(day0 + 3 * HOUR_MS, 1000.0), (day0 + DAY_MS + 8 * HOUR_MS, 1042.5),
                        (day0 + DAY_MS + 20 * HOUR_MS, 1050.0), (day0 + 3 * DAY_MS + HOUR_MS, 1101.25)]
        sub_readings = [(day0 + 6 * HOUR_MS, 20.0), (day0 + 2 * DAY_MS + 6 * HOUR_MS, 27.5)]
        for node, readings in ((gas, gas_readings), (sub, sub_readings)):
            for ts, value in readings:
                status, body = self.reading(self.operator, node["id"], ts, value)
                self.assertEqual(status, 201, body)
                self.assertEqual(body["quality"], "manual")
        status, body = self.reading(self.operator, gas["id"], day0 + 4 * DAY_MS, 1100)
        self.assertEqual(status, 409, body)
        self.assertIn("1100", body["error"]["message"])
        self.assertIn("1101.25", body["error"]["message"])
        status, body = self.reading(self.operator, gas["id"], now + 3_600_000, 2000)
        self.assertEqual(status, 400, body)
        status, body = self.reading(self.operator, campus["id"], day0, 1)
        self.assertEqual(status, 409, body)

        listed = self.viewer.get(f"/api/v1/tree/nodes/{gas['id']}/readings")
        self.assertEqual([(r["ts_ms"], r["value"]) for r in listed], gas_readings)
        self.assertTrue(all(r["quality"] == "manual" for r in listed))
        q = urllib.parse.urlencode({"from": day0, "to": now})
        history = self.viewer.get(f"/api/v1/signals/{gas['energy_signal']['id']}/history?{q}")
        self.assertEqual(history["points"], [[ts, v] for ts, v in gas_readings])
        self.assertEqual(history["qualities"], [[ts, "manual"] for ts, _ in gas_readings])

        # The real meter's history is frozen once its connector stops.
        s.stop("edge")
        samples = s.history(energy["id"], 0, now + DAY_MS)
        self.assertGreater(len(samples), 2)
        scale = 0.001 if energy["unit"] == "Wh" else 1.0
        real_kwh = (samples[-1][1] - samples[0][1]) * scale

        frm, to = day0, now + DAY_MS
        gas_days = self.expected_days(gas_readings)
        sub_days = self.expected_days(sub_readings)
        got = self.consumption(gas["id"], frm, to)
        self.assertEqual(got["unit"], "kWh")
        self.assertEqual(sorted(gas_days), [p[0] for p in got["points"]])
        for start, kwh in got["points"]:
            self.assertAlmostEqual(kwh, gas_days[start], places=6)
        gas_kwh = sum(gas_days.values())
        sub_kwh = sum(sub_days.values())
        self.assertAlmostEqual(got["total"], gas_kwh, places=6)
        self.assertAlmostEqual(self.consumption(sub["id"], frm, to)["total"], sub_kwh, places=6)
        got_real = self.consumption(real["id"], frm, to)
        self.assertEqual(got_real["signal"]["id"], energy["id"])
        self.assertAlmostEqual(got_real["total"], real_kwh, places=4)
        self.assertAlmostEqual(self.consumption(board["id"], frm, to)["total"], real_kwh, places=4)
        self.assertAlmostEqual(self.consumption(lab["id"], frm, to)["total"], real_kwh + gas_kwh, places=4)
        total = self.consumption(campus["id"], frm, to)
        # The virtual meter below the campus is not summed into it.
        self.assertAlmostEqual(total["total"], real_kwh + gas_kwh + sub_kwh, places=4)
        self.assertEqual(sorted(m["node_id"] for m in total["members"]),
                         sorted([real["id"], gas["id"], sub["id"]]))
        got_virtual = self.consumption(virtual["id"], frm, to)
        self.assertAlmostEqual(got_virtual["total"], real_kwh + gas_kwh - sub_kwh, places=4)
        self.assertEqual({m["node_id"]: m["sign"] for m in got_virtual["members"]},
                         {lab["id"]: 1, sub["id"]: -1})
        # Hourly points add up to the same totals.
        hourly = self.consumption(campus["id"], frm, to, "hour")
        self.assertAlmostEqual(sum(p[1] for p in hourly["points"]), total["total"], places=4)

        # The whole tree, nested, for a viewer.
        tree = self.viewer.get("/api/v1/tree")["nodes"]
        self.assertEqual([n["name"] for n in tree], ["Campus"])
        self.assertEqual([n["name"] for n in tree[0]["children"]], ["Lab", "Canteen", "Lab without canteen"])
        lab_node = tree[0]["children"][0]
        self.assertEqual([n["name"] for n in lab_node["children"]], ["DB-1", "Heat pump"])
        self.assertEqual(lab_node["children"][0]["children"][0]["device_id"], meter["id"])

        # Moving the canteen into the lab: the lab now sums it, the campus stays the same.
        status, moved = self.engineer.request("PUT", f"/api/v1/tree/nodes/{sub['id']}",
                                              {"parent_id": lab["id"]}, CSRF)
        self.assertEqual(status, 200, moved)
        self.assertAlmostEqual(self.consumption(lab["id"], frm, to)["total"],
                               real_kwh + gas_kwh + sub_kwh, places=4)
        self.assertAlmostEqual(self.consumption(campus["id"], frm, to)["total"],
                               real_kwh + gas_kwh + sub_kwh, places=4)
        self.assertAlmostEqual(self.consumption(virtual["id"], frm, to)["total"], real_kwh + gas_kwh, places=4)

        # Refusals with their reasons.
        status, body = self.engineer.request("PUT", f"/api/v1/tree/nodes/{campus['id']}",
                                             {"parent_id": board["id"]}, CSRF)
        self.assertEqual(status, 409, body)
        status, body = self.engineer.request("PUT", f"/api/v1/tree/nodes/{virtual['id']}",
                                             {"terms": [{"node_id": virtual["id"], "sign": 1}]}, CSRF)
        self.assertEqual(status, 409, body)
        status, body = self.engineer.request("DELETE", f"/api/v1/tree/nodes/{sub['id']}", None, CSRF)
        self.assertEqual(status, 409, body)
        self.assertIn("Lab without canteen", body["error"]["message"])
        status, body = self.engineer.request("DELETE", f"/api/v1/tree/nodes/{lab['id']}", None, CSRF)
        self.assertEqual(status, 409, body)
        status, body = self.engineer.request("POST", "/api/v1/tree/nodes",
                                             {"parent_id": None, "kind": "meter", "name": "again",
                                              "device_id": meter["id"]}, CSRF)
        self.assertEqual(status, 409, body)

        # Renaming and deleting, all in the audit log with before and after.
        status, renamed = self.engineer.request("PUT", f"/api/v1/tree/nodes/{virtual['id']}",
                                                {"name": "Lab net"}, CSRF)
        self.assertEqual(status, 200, renamed)
        self.assertEqual(renamed["name"], "Lab net")
        status, _ = self.engineer.request("DELETE", f"/api/v1/tree/nodes/{virtual['id']}", None, CSRF)
        self.assertEqual(status, 204)
        status, _ = self.engineer.request("DELETE", f"/api/v1/tree/nodes/{campus['id']}?recursive=1", None, CSRF)
        self.assertEqual(status, 204)
        self.assertEqual(self.viewer.get("/api/v1/tree")["nodes"], [])
        audit = self.admin.get("/api/v1/audit?limit=200")
        actions = [e["action"] for e in audit]
        self.assertEqual(actions.count("node_created"), 7)
        self.assertEqual(actions.count("reading_entered"), len(gas_readings) + len(sub_readings))
        changed = [e for e in audit if e["action"] == "node_changed"]
        self.assertIn({"before": "Lab without canteen", "after": "Lab net"},
                      [{"before": e["before"]["name"], "after": e["after"]["name"]} for e in changed])
        deleted = [e for e in audit if e["action"] == "node_deleted"]
        self.assertEqual(len(deleted), 2)
        self.assertEqual(len(deleted[0]["before"]), 6)  # newest first: the campus and all below


if __name__ == "__main__":
    unittest.main(verbosity=2)
