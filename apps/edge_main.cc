#include "edge/edge_app.h"

int main(int argc, char** argv) { return wattline::edge::RunEdgeMain(argc, argv); }
