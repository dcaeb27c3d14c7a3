/* A Modbus TCP client we did not write: libmodbus 3.1 reading holding registers.
 *   libmodbus_client HOST PORT UNIT ADDRESS COUNT
 * prints the registers as 4-digit hex words separated by spaces, exit 0; on failure prints
 * "ERROR <errno> <message>" and exits 2 (a Modbus exception 0B shows as errno 112345689 + 11). */
#include <errno.h>
#include <modbus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: %s HOST PORT UNIT ADDRESS COUNT\n", argv[0]);
    return 1;
  }
  modbus_t* ctx = modbus_new_tcp(argv[1], atoi(argv[2]));
  if (ctx == NULL || modbus_connect(ctx) != 0) {
    printf("ERROR %d %s\n", errno, modbus_strerror(errno));
    return 2;
  }
  modbus_set_slave(ctx, atoi(argv[3]));
  modbus_set_response_timeout(ctx, 2, 0);
  int count = atoi(argv[5]);
  uint16_t regs[125];
  if (count < 1 || count > 125) return 1;
  int n = modbus_read_registers(ctx, atoi(argv[4]), count, regs);
  if (n != count) {
    printf("ERROR %d %s\n", errno, modbus_strerror(errno));
    modbus_close(ctx);
    modbus_free(ctx);
    return 2;
  }
  for (int i = 0; i < n; ++i) printf("%s%04x", i ? " " : "", regs[i]);
  printf("\n");
  modbus_close(ctx);
  modbus_free(ctx);
  return 0;
}
