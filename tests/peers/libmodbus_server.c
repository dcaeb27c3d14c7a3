/* A Modbus TCP peer we did not write the protocol code of: libmodbus 3.1 serving holding
 * registers 19000..19121 on 127.0.0.1 (an ephemeral port unless argv[1] names one) with the
 * same known floats as pymodbus_umg.py, packed by hand high word first (ABCD): libmodbus's own
 * float helpers are not trusted (docs: meters.md 5.14). Reads outside the block get exception
 * 02 from libmodbus. Prints "READY <port>" once listening; serves one connection at a time
 * until killed. */
#include <arpa/inet.h>
#include <errno.h>
#include <modbus.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void put_float(uint16_t* regs, float value) {
  uint32_t bits;
  memcpy(&bits, &value, sizeof bits);
  regs[0] = (uint16_t)(bits >> 16);
  regs[1] = (uint16_t)(bits & 0xFFFF);
}

int main(int argc, char** argv) {
  int port = argc > 1 ? atoi(argv[1]) : 0;
  modbus_t* ctx = modbus_new_tcp("127.0.0.1", port);
  modbus_mapping_t* map = modbus_mapping_new_start_address(0, 0, 0, 0, 19000, 122, 0, 0);
  if (ctx == NULL || map == NULL) {
    fprintf(stderr, "libmodbus setup failed: %s\n", modbus_strerror(errno));
    return 1;
  }
  const float U = 230.0f, I = 10.0f, F = 50.0f;
  put_float(&map->tab_registers[0], U);
  put_float(&map->tab_registers[2], U);
  put_float(&map->tab_registers[4], U);
  put_float(&map->tab_registers[12], I);
  put_float(&map->tab_registers[50], F);
  int listener = modbus_tcp_listen(ctx, 1);
  if (listener < 0) {
    fprintf(stderr, "listen failed: %s\n", modbus_strerror(errno));
    return 1;
  }
  struct sockaddr_in addr;
  socklen_t len = sizeof addr;
  getsockname(listener, (struct sockaddr*)&addr, &len);
  printf("READY %d\n", ntohs(addr.sin_port));
  fflush(stdout);
  for (;;) {
    if (modbus_tcp_accept(ctx, &listener) < 0) continue;
    uint8_t query[MODBUS_TCP_MAX_ADU_LENGTH];
    for (;;) {
      int n = modbus_receive(ctx, query);
      if (n > 0) {
        modbus_reply(ctx, query, n, map);
      } else if (n < 0) {
        break; /* connection closed or error: accept the next one */
      }
    }
    modbus_close(ctx);
  }
}
