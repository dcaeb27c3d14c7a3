# wattline_edge_queue: the connector's durable store-and-forward queue (durable_queue.h).
add_library(wattline_edge_queue
  ${CMAKE_CURRENT_LIST_DIR}/durable_queue.cc
)
target_link_libraries(wattline_edge_queue PUBLIC wattline_core PRIVATE wattline_wire)

wattline_add_test(wattline_edge_queue_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/durable_queue_test.cc
  LIBS wattline_edge_queue wattline_core_testing)
