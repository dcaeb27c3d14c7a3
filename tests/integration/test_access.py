"""Every endpoint refuses what it must: the API document (GET /api/v1/openapi.json, whose
operations OpenApiTest checks against the real routes) names for each operation who may call it
(x-wattline-role). For every operation this test calls the running server
  - without a session: 401;
  - as a user whose role is one below the operation's: 403;
  - as the administrator of another tenant, with the ids of this tenant's objects: 404, and
    lists that show none of this tenant's names.
Runs simulator, server and connector as separate processes on loopback (stack.py)."""
import json
import unittest

from stack import Api, Stack, wait_for

CSRF = {"X-Requested-With": "wattline"}
ROLES = ["viewer", "operator", "engineer", "administrator", "system"]
# Operations outside the session model, each tested elsewhere: the API document and login
# (integration.end_to_end, AccountsApiTest), the connector's ingest and claim calls (bearer
# token or claim secret: integration.claiming, ClaimsTest) and the WebSocket (LiveHub tests).
OUTSIDE = {"GET /api/v1/openapi.json", "POST /api/v1/login", "POST /api/v1/ingest",
           "POST /api/v1/claims", "GET /api/v1/claims/{uuid}", "GET /api/v1/live"}


class AccessTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack(meters=2)
        try:
            cls._start()
        except Exception:
            cls.stack.close()
            raise

    @classmethod
    def _start(cls):
        s = cls.stack
        s.start_sim()
        s.start_server()
        s.start_edge()
        root = s.api
        status, _ = root.login("admin", s.admin_password())
        assert status == 200, status
        wait_for(lambda: len(s.meters_with_values()) == 2, 90, "meters with values")
        cls.users = {}
        for role in ROLES[:-1]:
            cls.users[role] = cls._user(root, f"{role}-a", role)
        cls.users["system"] = root
        status, other = root.request("POST", "/api/v1/tenants", {"name": "Other tenant"}, CSRF)
        assert status == 201, other
        cls.other = cls._user(root, "boss-b", "administrator", other["id"])
        # This tenant's objects whose ids the other tenant tries.
        meters = root.get("/api/v1/meters")
        cls.signal_id = meters[0]["signals"][0]["id"]
        status, dash = cls.users["engineer"].request(
            "POST", "/api/v1/dashboards",
            {"name": "Plant A secret dashboard", "shared": False, "layout": {"widgets": []}}, CSRF)
        assert status == 201, dash
        cls.dashboard_id = dash["id"]
        status, node = cls.users["engineer"].request(
            "POST", "/api/v1/tree/nodes",
            {"parent_id": None, "kind": "meter", "name": "Plant A secret meter", "manual": True}, CSRF)
        assert status == 201, node
        cls.node_id = node["id"]
        cls.user_id = next(u["id"] for u in root.get("/api/v1/users") if u["username"] == "viewer-a")
        cls.markers = [m["name"] for m in meters] + ["viewer-a", "Plant A secret dashboard",
                                                     "edge-1", "Test site", "Plant A secret meter"]
        cls.doc = root.get("/api/v1/openapi.json")

    @classmethod
    def _user(cls, root, name, role, tenant_id=None):
        body = {"username": name, "password": "First-Password-1", "role": role}
        if tenant_id is not None:
            body["tenant_id"] = tenant_id
        status, created = root.request("POST", "/api/v1/users", body, CSRF)
        assert status == 201, created
        api = Api(root.base_url, cls.stack.cert)
        status, me = api.login(name, "First-Password-1")
        assert status == 200 and me["must_change_password"], me
        status, _ = api.request("POST", "/api/v1/me/password",
                                {"current": "First-Password-1", "new": "Second-Password-2"}, CSRF)
        assert status == 204, status
        return api

    @classmethod
    def tearDownClass(cls):
        cls.stack.close()

    def operations(self):
        for path, item in self.doc["paths"].items():
            for method, op in item.items():
                yield method.upper(), path, op["x-wattline-role"]

    def target(self, path, own=True):
        ids = {"/api/v1/signals/": self.signal_id, "/api/v1/users/": self.user_id,
               "/api/v1/dashboards/": self.dashboard_id, "/api/v1/tree/nodes/": self.node_id}
        for prefix, value in ids.items():
            if path.startswith(prefix):
                path = path.replace("{id}", str(value))
        self.assertNotIn("{", path, f"no object id for {path}: add one to the test")
        # Required query parameters get plausible values; refusals come before they are read.
        return path + "?from=0&to=4102444800000&interval=day&points=10"

    def call(self, api, method, path):
        body = None if method == "GET" else {}
        return api.request(method, path, body, CSRF, raw=True)

    def test_the_document_names_a_role_for_every_operation(self):
        ops = list(self.operations())
        self.assertGreaterEqual(len(ops), 35)
        outside = {f"{m} {p}" for m, p, r in ops if r in ("public", "connector")}
        self.assertEqual(outside | {"GET /api/v1/live"}, OUTSIDE)

    def test_without_a_session_every_operation_answers_401(self):
        anonymous = Api(self.stack.api.base_url, self.stack.cert)
        for method, path, role in self.operations():
            if f"{method} {path}" in OUTSIDE:
                continue
            with self.subTest(op=f"{method} {path}"):
                status, body = self.call(anonymous, method, self.target(path))
                self.assertEqual(status, 401, body)

    def test_a_role_below_the_required_one_is_refused(self):
        checked = 0
        for method, path, role in self.operations():
            if f"{method} {path}" in OUTSIDE or role in ("session", "viewer"):
                continue
            lower = ROLES[ROLES.index(role) - 1]
            with self.subTest(op=f"{method} {path}", as_role=lower):
                status, body = self.call(self.users[lower], method, self.target(path))
                self.assertEqual(status, 403, body)
                self.assertEqual(json.loads(body)["error"]["code"], "permission_denied")
                checked += 1
        self.assertGreaterEqual(checked, 10)

    def test_another_tenant_sees_none_of_this_tenants_objects(self):
        checked = 0
        for method, path, role in self.operations():
            if f"{method} {path}" in OUTSIDE or role == "system":
                continue
            if "{id}" not in path and method != "GET":
                continue  # acts on the caller's own tenant; nothing of this tenant to reach
            with self.subTest(op=f"{method} {path}"):
                status, body = self.call(self.other, method, self.target(path))
                text = body.decode(errors="replace")
                if "{id}" in path:
                    self.assertEqual(status, 404, text)
                else:
                    self.assertEqual(status, 200, text)
                for marker in self.markers:
                    self.assertNotIn(marker, text)
                checked += 1
        self.assertGreaterEqual(checked, 15)

    def test_a_viewer_cannot_change_another_users_dashboard(self):
        path = f"/api/v1/dashboards/{self.dashboard_id}"
        # Not shared: not even visible.
        status, _ = self.call(self.users["viewer"], "GET", path)
        self.assertEqual(status, 404)
        status, body = self.users["engineer"].request(
            "PUT", path, {"name": "Plant A secret dashboard", "shared": True, "layout": {"widgets": []}},
            CSRF)
        self.assertEqual(status, 200, body)
        status, body = self.users["viewer"].request("GET", path)
        self.assertEqual(status, 200, body)
        self.assertFalse(body["mine"])
        status, body = self.users["viewer"].request(
            "PUT", path, {"name": "taken over", "shared": True, "layout": {"widgets": []}}, CSRF)
        self.assertEqual(status, 403, body)
        status, body = self.users["viewer"].request(
            "POST", "/api/v1/dashboards", {"name": "mine", "shared": True, "layout": {"widgets": []}}, CSRF)
        self.assertEqual(status, 403, body)  # sharing needs engineer


if __name__ == "__main__":
    unittest.main(verbosity=2)
