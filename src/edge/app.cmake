add_library(wattline_edge
  ${CMAKE_CURRENT_SOURCE_DIR}/edge_app.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/uplink.cc
)
target_link_libraries(wattline_edge PUBLIC wattline_edge_poll wattline_edge_queue wattline_wire wattline_http wattline_profiles wattline_discovery)
