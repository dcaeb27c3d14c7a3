# The connector's own web UI: HTTP API (edge/web/web_api.h) and its persisted files.
# Sessions and password hashing are the server's (wattline_server: sessions.cc, password.cc).
add_library(wattline_edge_web
  ${CMAKE_CURRENT_SOURCE_DIR}/web/web_api.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/web/web_store.cc
  ${CMAKE_CURRENT_SOURCE_DIR}/web/scan_service.cc
)
target_link_libraries(wattline_edge_web PUBLIC wattline_edge_poll wattline_http wattline_profiles wattline_server wattline_discovery PkgConfig::TOMLPP)

wattline_add_test(wattline_edge_web_test
  SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/web/web_api_test.cc ${CMAKE_CURRENT_SOURCE_DIR}/web/web_store_test.cc
  LIBS wattline_edge_web wattline_sim)
if(TARGET wattline_edge_web_test)
  target_compile_definitions(wattline_edge_web_test PRIVATE
    WATTLINE_PROFILES_DIR="${PROJECT_SOURCE_DIR}/profiles")
endif()
