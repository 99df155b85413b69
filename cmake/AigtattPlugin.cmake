# aigtatt_add_plugin(<target> SOURCES <files...> [LIBS <libs...>])
#
# Builds one plugin as a MODULE library into the build tree's plugin folder
# and installs it into lib/aigtatt/plugins. Plugins see only the SDK
# headers; they never link against libaigtatt.
function(aigtatt_add_plugin target)
  cmake_parse_arguments(P "" "" "SOURCES;LIBS" ${ARGN})
  add_library(${target} MODULE ${P_SOURCES})
  target_include_directories(${target} PRIVATE "${AIGTATT_SDK_INCLUDE}")
  target_link_libraries(${target} PRIVATE ${P_LIBS})
  set_target_properties(${target} PROPERTIES
    PREFIX ""
    C_VISIBILITY_PRESET hidden
    LIBRARY_OUTPUT_DIRECTORY "${AIGTATT_BUILD_PLUGIN_DIR}")
  install(TARGETS ${target} LIBRARY DESTINATION "${AIGTATT_PLUGIN_INSTALL_DIR}")
  set_property(GLOBAL APPEND PROPERTY AIGTATT_PLUGIN_TARGETS ${target})
endfunction()
