include(${CMAKE_CURRENT_SOURCE_DIR}/web.cmake)
add_library(wattline_edge
  ${CMAKE_CURRENT_SOURCE_DIR}/edge_app.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/uplink.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/claiming.cc
)
target_link_libraries(wattline_edge PUBLIC wattline_edge_poll wattline_edge_queue wattline_wire wattline_http wattline_profiles wattline_discovery wattline_edge_web)
target_compile_definitions(wattline_edge PRIVATE WATTLINE_VERSION="${PROJECT_VERSION}")

# Claiming: identity file, claim codes, trust on first use (claiming.h).
wattline_add_test(wattline_edge_claiming_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/claiming_test.cc
  LIBS wattline_edge)
