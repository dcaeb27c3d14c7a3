#include "server/server_app.h"

int main(int argc, char** argv) { return wattline::server::RunServerMain(argc, argv); }
