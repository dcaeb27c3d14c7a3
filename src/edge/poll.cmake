# The meter poll scheduler (included from CMakeLists.txt).
add_library(wattline_edge_poll poller.cc adaptive_plan.cc meter_contact.cc recorder.cc)
target_link_libraries(wattline_edge_poll PUBLIC wattline_core wattline_modbus wattline_profiles)

wattline_add_test(wattline_edge_poll_test
  SOURCES poller_test.cc adaptive_plan_test.cc
  LIBS wattline_edge_poll wattline_sim
)
if(TARGET wattline_edge_poll_test)
  target_compile_definitions(wattline_edge_poll_test PRIVATE
    WATTLINE_PROFILES_DIR="${PROJECT_SOURCE_DIR}/profiles"
    WATTLINE_TESTDATA_DIR="${PROJECT_SOURCE_DIR}/testdata")
endif()

# Recording rules (recorder.h): cycles, aggregates, dead bands; one test runs the real poller.
wattline_add_test(wattline_edge_recorder_test
  SOURCES recorder_test.cc
  LIBS wattline_edge_poll wattline_sim
)
if(TARGET wattline_edge_recorder_test)
  target_compile_definitions(wattline_edge_recorder_test PRIVATE
    WATTLINE_PROFILES_DIR="${PROJECT_SOURCE_DIR}/profiles")
endif()
