"""The connector polls a Modbus server we did not write (Debian's pymodbus, serving the Janitza
UMG float block with known values) and the server shows exactly those values."""
import math
import os
import unittest

from stack import SOURCE_DIR, Stack, wait_for

U, I, COS, F, E = 230.0, 10.0, 0.9, 50.0, 1000000.0


class PymodbusPeerTest(unittest.TestCase):
    def test_connector_reads_pymodbus_umg_block(self):
        stack = Stack(meters=0)
        try:
            port = stack.start_peer(["/usr/bin/python3", os.path.join(SOURCE_DIR, "tests", "peers", "pymodbus_umg.py"),
                                     "--port", "0"])
            with open(stack.meters_file, "w") as f:
                f.write(f'[[meter]]\nkey = "pymodbus-umg"\nhost = "127.0.0.1"\nport = {port}\n'
                        f'unit_id = 1\nprofile = "janitza-umg96rm-e"\n')
            stack.start_server()
            stack.start_edge()
            status, _ = stack.api.login("admin", stack.admin_password())
            self.assertEqual(status, 200)
            values = wait_for(lambda: stack.meters_with_values().get("pymodbus-umg"), 60, "values from pymodbus")
            v = {k: x["value"] for k, x in values.items()}
            p = U * I * COS
            expected = {
                "voltage_l1_n": U, "voltage_l3_n": U, "current_l2": I, "cos_phi_l3": COS, "frequency": F,
                "active_power_l1": p, "active_power_total": 3 * p, "apparent_power_total": 3 * U * I,
                "reactive_power_total": 3 * math.sqrt((U * I) ** 2 - p * p), "active_energy_import": E,
                "active_energy_export": 0.0,
            }
            for name, want in expected.items():
                self.assertIn(name, v)
                self.assertAlmostEqual(v[name], want, delta=abs(want) * 1e-6 + 1e-6, msg=name)
        except Exception:
            print(stack.logs())
            raise
        finally:
            stack.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
